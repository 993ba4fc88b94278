import * as pulumi from "@pulumi/pulumi";
import { daemonFiles } from "../lib/localLayout";
import { ServerUpgrade } from "../spacetimedb/upgrade";
import type { UpgradeRecord } from "../spacetimedb/upgrade-impl";
import { daemonControl, localDaemon } from "./daemon";

export interface LocalServerArgs {
    /** spacetimedb-standalone to run (a path, or a name on PATH). */
    binary: string;
    version: string;
    /** Server root: data/ and config/ (JWT signing keys) beneath it, kept across restarts. */
    rootDir: string;
    address: string;
    port: number;
    inMemory: boolean;
    logLevel: string;
    readyTimeoutSeconds: number;
    /** Remove the root dir when the stack is destroyed (ephemeral stacks only). */
    deleteDataOnDestroy: boolean;
    protect: boolean;
    /** What the upgrade gate needs besides: the database it observes and where its backup goes (project-relative). */
    stack: string;
    database: string;
    backupDir: string;
    /** The commitlog archive the archiver beside the server fills (project-relative; scripts/archive-ctl.sh). */
    archiveDir: string;
    /** clog-archive to run (a path, or a name on PATH). */
    archiverBinary: string;
    timeoutMs: number;
}

/** What server-ctl.sh hands archive-ctl.sh: the archiver runs beside the server, started and stopped with it. */
function archiverEnvironment(archiveDir: string, binary: string): Record<string, string> {
    const files = daemonFiles(archiveDir);
    // 200 ms between passes: the archive's lag (the RPO of a point-in-time restore) is about that
    // plus a pass, for the cost of a stat and a short read of the newest segment five times a second.
    return { IU_ARCHIVER_BIN: binary, IU_ARCHIVE_DIR: archiveDir, IU_ARCHIVE_INTERVAL_MS: "200", IU_ARCHIVE_PID_FILE: files.pid, IU_ARCHIVE_LOG_FILE: files.log };
}

/**
 * The dev runtime: a standalone SpacetimeDB process owned by the stack. `up` waits for
 * /v1/ping; delete stops it with SIGINT; a dead process is drift that the next preview shows
 * and the next `up` repairs, without touching the root dir. A changed version passes the upgrade
 * gate first (backup, switch, checks, automatic way back; infra/spacetimedb/upgrade-impl.ts).
 */
export class LocalServer extends pulumi.ComponentResource {
    readonly url: pulumi.Output<string>;
    readonly pid: pulumi.Output<number>;
    /** The last upgrade the gate made and the backup taken before it; undefined before the first. */
    readonly lastUpgrade: pulumi.Output<UpgradeRecord | undefined>;

    constructor(name: string, args: LocalServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("inner-universe:server:Local", name, {}, opts);
        const listen = `${args.address}:${args.port}`;
        const daemon = {
            ctl: "server-ctl.sh",
            environment: {
                IU_SERVER_BIN: args.binary,
                IU_SERVER_VERSION: args.version,
                IU_ROOT_DIR: args.rootDir,
                IU_LISTEN: listen,
                IU_IN_MEMORY: args.inMemory ? "1" : "0",
                IU_LOG_LEVEL: args.logLevel,
                IU_READY_TIMEOUT: String(args.readyTimeoutSeconds),
                ...(args.inMemory ? {} : archiverEnvironment(args.archiveDir, args.archiverBinary)),
            },
            stateDir: args.rootDir,
        };
        const gate = this.createUpgradeGate(name, args, daemon, `http://${listen}`);
        const proc = localDaemon(name, this, {
            ...daemon,
            privateSubdirs: ["config", "data"],
            deleteStateOnDestroy: args.deleteDataOnDestroy,
            protect: args.protect,
            timeoutSeconds: args.readyTimeoutSeconds + 30,
            ...(gate ? { dependsOn: [gate] } : {}),
        });
        // Derived from the process step so everything using the URL waits for a running server; from
        // its id (stable across in-place updates) so a restart preview does not make the URL unknown
        // and every publish trigger with it.
        this.url = proc.id.apply(() => `http://${listen}`);
        this.pid = proc.stdout.apply((s) => Number(JSON.parse(s).pid));
        this.lastUpgrade = gate ? gate.last : pulumi.output(undefined);
        this.registerOutputs({ url: this.url, pid: this.pid, lastUpgrade: this.lastUpgrade });
    }

    /** The upgrade gate the process step waits for; none for a server in memory (no root to carry over). */
    private createUpgradeGate(name: string, args: LocalServerArgs, daemon: Parameters<typeof daemonControl>[0], serverUrl: string): ServerUpgrade | undefined {
        if (args.inMemory) return undefined;
        const control = daemonControl(daemon);
        return new ServerUpgrade(
            `${name}-upgrade`,
            {
                stack: args.stack,
                database: args.database,
                rootDir: args.rootDir,
                backupDir: args.backupDir,
                version: args.version,
                serverUrl,
                start: control.start,
                stop: control.stop,
                environment: control.environment,
                readyTimeoutSeconds: args.readyTimeoutSeconds,
                timeoutMs: args.timeoutMs,
            },
            { parent: this },
        );
    }
}
