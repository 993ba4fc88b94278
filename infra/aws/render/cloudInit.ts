import { gzipSync } from "node:zlib";
import { renderCaddyfile } from "../../render/caddyfile";
import { type BootstrapOptions, renderBootstrap } from "./bootstrap";
import {
    ALB_PROXY_SERVICE,
    ALB_PROXY_SOCKET,
    ALB_TARGET_PORT,
    BOOTSTRAP_PATH,
    CADDY_ACCESS_LOG,
    CADDY_UNIT,
    CADDYFILE_PATH,
    SERVER_LOG,
    SERVER_LOG_TAG,
    SERVER_UNIT,
} from "./constants";
import { PROMETHEUS_SCRAPE_PATH, renderPrometheusScrapeConfig } from "./cwAgentConfig";
import { renderAlbProxyUnits, renderCaddyUnit, renderServerUnit } from "./systemdUnit";

export interface WriteFile {
    path: string;
    permissions: string;
    content: string;
}

export interface HostSpec {
    environment: string;
    /** Decides the package manager and how the CloudWatch agent is installed. */
    os: NonNullable<BootstrapOptions["os"]>;
    /** debian: the agent's pinned .deb (Amazon Linux installs it from its own repository). */
    cwAgentDeb?: { url: string; sha256: string };
    volumeId: string;
    rootDir: string;
    server: BootstrapOptions["server"];
    cwAgentParameter: string;
    maxConnections: number;
    front:
        | {
              mode: "acme";
              caddy: { url: string; sha256: string };
              domain: string;
              email: string;
              /** ACME directory (tls.acme_ca); Let's Encrypt when undefined. */
              acmeCa?: string;
              deployCidrs: string[];
              database: string;
              exposeCall: boolean;
              exposeSql: boolean;
              authRequired: boolean;
              timeoutMs: number;
          }
        | { mode: "alb" };
}

/** Every file the host needs, rendered from one spec (tests validate each with its own tool). */
export function hostFiles(spec: HostSpec): WriteFile[] {
    const unitOpts = { rootDir: spec.rootDir, version: spec.server.version, port: spec.server.port, command: spec.server.command, environment: spec.environment };
    const files: WriteFile[] = [
        { path: `/etc/systemd/system/${SERVER_UNIT}`, permissions: "0644", content: renderServerUnit(unitOpts) },
        { path: "/etc/rsyslog.d/30-spacetimedb.conf", permissions: "0644", content: rsyslogRule() },
        { path: "/etc/logrotate.d/spacetimedb", permissions: "0644", content: logrotateRule() },
        { path: PROMETHEUS_SCRAPE_PATH, permissions: "0644", content: renderPrometheusScrapeConfig({ port: spec.server.port, environment: spec.environment }) },
    ];
    const f = spec.front;
    if (f.mode === "acme") {
        const caddyfile = renderCaddyfile({
            site: f.domain,
            upstream: `127.0.0.1:${spec.server.port}`,
            tls: { mode: "acme", email: f.email, ...(f.acmeCa ? { ca: f.acmeCa } : {}) },
            deployCidrs: f.deployCidrs,
            authRequired: f.authRequired,
            timeoutMs: f.timeoutMs,
            database: f.database,
            exposeCall: f.exposeCall,
            exposeSql: f.exposeSql,
            accessLog: CADDY_ACCESS_LOG,
        });
        files.push({ path: CADDYFILE_PATH, permissions: "0644", content: caddyfile });
        files.push({ path: `/etc/systemd/system/${CADDY_UNIT}`, permissions: "0644", content: renderCaddyUnit({ dataDir: `${spec.rootDir}/caddy`, mountPoint: spec.rootDir }) });
    } else {
        const units = renderAlbProxyUnits({ targetPort: ALB_TARGET_PORT, serverPort: spec.server.port, maxConnections: spec.maxConnections });
        files.push({ path: `/etc/systemd/system/${ALB_PROXY_SOCKET}`, permissions: "0644", content: units.socket });
        files.push({ path: `/etc/systemd/system/${ALB_PROXY_SERVICE}`, permissions: "0644", content: units.service });
    }
    const bootstrap = renderBootstrap({
        os: spec.os,
        ...(spec.cwAgentDeb ? { cwAgentDeb: spec.cwAgentDeb } : {}),
        volumeId: spec.volumeId,
        rootDir: spec.rootDir,
        server: spec.server,
        front: f.mode === "acme" ? { mode: "acme", caddy: f.caddy } : { mode: "alb" },
        cwAgentParameter: spec.cwAgentParameter,
    });
    files.push({ path: BOOTSTRAP_PATH, permissions: "0755", content: bootstrap });
    return files;
}

/**
 * EC2 user data: a #cloud-config that writes the files and runs the bootstrap once. Plain text
 * on purpose (readable in the console) and free of secrets, except the bootstrap script itself,
 * written `gz+b64` (cloud-init decodes it): in plain text it alone would take the user data past
 * EC2's 16 KiB limit. gzip without a timestamp, so the same script is the same user data. Any change to it replaces the host
 * (userDataReplaceOnChange), which is safe because everything stateful is on the data volume.
 */
export function renderUserData(spec: HostSpec): string {
    const files = hostFiles(spec);
    const lines = ["#cloud-config", `# inner-universe ${spec.environment} host, rendered by infra/aws/render/cloudInit.ts. No secrets here.`, "write_files:"];
    for (const file of files) {
        lines.push(`- path: ${file.path}`, "  owner: root:root", `  permissions: "${file.permissions}"`);
        if (file.path === BOOTSTRAP_PATH) {
            lines.push("  encoding: gz+b64", `  content: ${gzipSync(file.content, { level: 9 }).toString("base64")}`);
            continue;
        }
        lines.push("  content: |");
        for (const line of file.content.replace(/\n$/, "").split("\n")) lines.push(line === "" ? "" : `    ${line}`);
    }
    lines.push("runcmd:", `- [${BOOTSTRAP_PATH}]`, "");
    return lines.join("\n");
}

function rsyslogRule(): string {
    return [
        "# Copies the server's journal stream to a file the CloudWatch agent ships (it cannot read the journal).",
        `if $programname == '${SERVER_LOG_TAG}' then {`,
        `    action(type="omfile" file="${SERVER_LOG}" fileCreateMode="0640")`,
        "}",
        "",
    ].join("\n");
}

function logrotateRule(): string {
    return [
        `${SERVER_LOG} {`,
        "    daily",
        "    rotate 7",
        "    compress",
        "    delaycompress",
        "    missingok",
        "    notifempty",
        "    postrotate",
        "        /usr/bin/systemctl kill -s HUP rsyslog.service >/dev/null 2>&1 || true",
        "    endscript",
        "}",
        "",
    ].join("\n");
}
