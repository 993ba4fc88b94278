import * as path from "node:path";
import { standaloneStartArgs } from "../../facts";
import { ALB_PROXY_SOCKET, CADDY_ACCESS_LOG, CADDY_BIN, CADDYFILE_PATH, SERVER_LOG_TAG, SERVER_UNIT, SOCKET_PROXYD } from "./constants";
import { SANDBOX } from "./sandbox";

/** Caddy writes its access log here (the bootstrap creates it, owned by caddy). */
const CADDY_LOG_DIR = path.posix.dirname(CADDY_ACCESS_LOG);

export interface ServerUnitOptions {
    /** Server root on the data volume (data, JWT keys, binaries). */
    rootDir: string;
    version: string;
    port: number;
    /** standalone: 1.x `spacetimedb-standalone start` with explicit paths; spacetime: 2.x `spacetime --root-dir`. */
    command: "standalone" | "spacetime";
    environment: string;
}

/** Where the bootstrap unpacks the pinned release (the layout `spacetime version` itself uses). */
export function serverBinDir(rootDir: string, version: string): string {
    return `${rootDir}/bin/${version}`;
}

/** The server's command line; the JWT keypair stays in the root's config/ on the volume, never regenerated. */
export function serverExecStart(o: ServerUnitOptions): string {
    const listen = `127.0.0.1:${o.port}`;
    if (o.command === "spacetime") return `/usr/local/bin/spacetime --root-dir=${o.rootDir} start --listen-addr ${listen}`;
    return [`${serverBinDir(o.rootDir, o.version)}/spacetimedb-standalone`, ...standaloneStartArgs(o.rootDir), "--listen-addr", listen].join(" ");
}

export function renderServerUnit(o: ServerUnitOptions): string {
    return unit([
        [
            "Unit",
            [
                `Description=SpacetimeDB server (inner-universe ${o.environment})`,
                "Documentation=https://spacetimedb.com/docs",
                "Wants=network-online.target",
                "After=network-online.target",
                // The fstab entry is nofail so the host still boots for repair; the server must not
                // start on the root disk instead, where it would mint new keys and an empty database.
                `RequiresMountsFor=${o.rootDir}`,
                `AssertPathIsMountPoint=${o.rootDir}`,
            ],
        ],
        [
            "Service",
            [
                "Type=simple",
                "User=spacetimedb",
                "Group=spacetimedb",
                `WorkingDirectory=${o.rootDir}`,
                `ExecStart=${serverExecStart(o)}`,
                // SIGINT is the only graceful shutdown; SIGTERM is a hard stop.
                "KillSignal=SIGINT",
                "TimeoutStopSec=120",
                "Restart=always",
                "RestartSec=5",
                "StandardOutput=journal",
                "StandardError=journal",
                `SyslogIdentifier=${SERVER_LOG_TAG}`,
                "LimitNOFILE=65536",
                ...SANDBOX,
                `ReadWritePaths=${o.rootDir}`,
                // Only its own user and root (who owns the binaries) are mapped; the volume's files are the server's.
                "PrivateUsers=yes",
                "CapabilityBoundingSet=",
                // Two calls of @resources on its own threads: on hosts with 10+ cores it pins them to
                // cores (sched_setaffinity), and wasmtime's cache worker lowers its own priority (setpriority).
                "SystemCallFilter=sched_setaffinity setpriority",
                // IPv4 for its 127.0.0.1 listener; AF_UNIX for the socketpair its runtime wakes threads with.
                "RestrictAddressFamilies=AF_INET AF_UNIX",
                // Loopback only, both ways: Caddy, the ALB relay and the agent's scrape reach it on
                // 127.0.0.1, and the server itself calls nothing outside the host.
                "IPAddressDeny=any",
                "IPAddressAllow=localhost",
                // Left open: MemoryDenyWriteExecute (the wasm runtime compiles modules to native code),
                // PrivateNetwork (it must listen on the host's loopback, where the fronts are) and
                // ProcSubset=pid (jemalloc reads /proc/sys/vm/overcommit_memory; hidden, it would
                // manage memory as if the kernel did not overcommit).
            ],
        ],
        ["Install", ["WantedBy=multi-user.target"]],
    ]);
}

export interface CaddyUnitOptions {
    /** Caddy's ACME account and certificates live on the data volume: a replacement host reuses them
     * instead of re-issuing (Let's Encrypt rate-limits duplicate certificates). */
    dataDir: string;
    /** The data volume's mount point: Caddy starts only when it is mounted. */
    mountPoint?: string;
}

export function renderCaddyUnit(o: CaddyUnitOptions): string {
    return unit([
        [
            "Unit",
            [
                "Description=Caddy, the TLS front of SpacetimeDB (ACME certificates)",
                "Documentation=https://caddyserver.com/docs/",
                "Wants=network-online.target",
                `After=network-online.target ${SERVER_UNIT}`,
                `RequiresMountsFor=${o.dataDir}`,
                // Like the server: if the volume did not mount (nofail), never start on the root disk,
                // where Caddy would register a new ACME account and order a duplicate certificate.
                ...(o.mountPoint ? [`AssertPathIsMountPoint=${o.mountPoint}`] : []),
            ],
        ],
        [
            "Service",
            [
                "Type=notify",
                "User=caddy",
                "Group=caddy",
                `Environment=XDG_DATA_HOME=${o.dataDir}/data XDG_CONFIG_HOME=${o.dataDir}/config`,
                `ExecStart=${CADDY_BIN} run --config ${CADDYFILE_PATH} --adapter caddyfile`,
                "TimeoutStopSec=10s",
                "Restart=always",
                "RestartSec=5",
                "LimitNOFILE=1048576",
                ...SANDBOX,
                `ReadWritePaths=${o.dataDir} ${CADDY_LOG_DIR}`,
                // The one capability: binding :80 and :443.
                "AmbientCapabilities=CAP_NET_BIND_SERVICE",
                "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
                "MemoryDenyWriteExecute=yes",
                // Both IP families: it listens on [::]:443 (dual-stack) and dials the ACME CA. AF_UNIX:
                // Type=notify reports readiness over systemd's notify socket.
                "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
                // Left open: PrivateUsers (a capability held in a user namespace of its own does not
                // cover the host's ports, so Caddy could not bind :443), IPAddressDeny (it answers
                // clients from anywhere on :80/:443 and orders certificates from the ACME CA over the
                // internet; the security group is the filter), PrivateNetwork (same reason) and
                // ProcSubset=pid (Go sizes its listen backlog from /proc/sys/net/core/somaxconn and
                // falls back to 128 without it).
            ],
        ],
        ["Install", ["WantedBy=multi-user.target"]],
    ]);
}

export interface AlbProxyOptions {
    targetPort: number;
    serverPort: number;
    maxConnections: number;
}

/**
 * ALB mode: the load balancer cannot reach a loopback listener, so a socket-activated relay
 * (part of systemd, no extra package) exposes the server on the target port; the security group
 * admits that port from the ALB only, and the ALB's rules are the route matrix.
 */
export function renderAlbProxyUnits(o: AlbProxyOptions): { socket: string; service: string } {
    const socket = unit([
        ["Unit", ["Description=ALB target port of SpacetimeDB"]],
        ["Socket", [`ListenStream=${o.targetPort}`, "NoDelay=true"]],
        ["Install", ["WantedBy=sockets.target"]],
    ]);
    const service = unit([
        [
            "Unit",
            ["Description=Relay from the ALB target port to SpacetimeDB on loopback", `Requires=${ALB_PROXY_SOCKET} ${SERVER_UNIT}`, `After=${ALB_PROXY_SOCKET} ${SERVER_UNIT}`],
        ],
        [
            "Service",
            [
                `ExecStart=${SOCKET_PROXYD} --connections-max=${o.maxConnections} 127.0.0.1:${o.serverPort}`,
                "DynamicUser=yes",
                ...SANDBOX,
                "ProcSubset=pid",
                "PrivateUsers=yes",
                "CapabilityBoundingSet=",
                "MemoryDenyWriteExecute=yes",
                // IPv4 to dial the server (the listening socket comes from systemd); AF_UNIX: it logs to the journal's socket.
                "RestrictAddressFamilies=AF_INET AF_UNIX",
                // The sockets it opens go to the server on loopback only. The ALB's connections arrive on
                // the listening socket systemd passes in, to which this list does not apply (the
                // security group admits the ALB only).
                "IPAddressDeny=any",
                "IPAddressAllow=localhost",
                // Left open: PrivateNetwork (it connects to the server on the host's loopback).
            ],
        ],
    ]);
    return { socket, service };
}

type Section = [name: string, lines: string[]];

function unit(sections: Section[]): string {
    return `${sections.map(([name, lines]) => [`[${name}]`, ...lines].join("\n")).join("\n\n")}\n`;
}
