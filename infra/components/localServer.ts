import * as pulumi from "@pulumi/pulumi";
import { localDaemon } from "./daemon";

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
}

/**
 * The dev runtime: a standalone SpacetimeDB process owned by the stack. `up` waits for
 * /v1/ping; delete stops it with SIGINT; a dead process is drift that the next preview shows
 * and the next `up` repairs, without touching the root dir.
 */
export class LocalServer extends pulumi.ComponentResource {
    readonly url: pulumi.Output<string>;
    readonly pid: pulumi.Output<number>;

    constructor(name: string, args: LocalServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("inner-universe:server:Local", name, {}, opts);
        const listen = `${args.address}:${args.port}`;
        const proc = localDaemon(name, this, {
            ctl: "server-ctl.sh",
            environment: {
                IU_SERVER_BIN: args.binary,
                IU_SERVER_VERSION: args.version,
                IU_ROOT_DIR: args.rootDir,
                IU_LISTEN: listen,
                IU_IN_MEMORY: args.inMemory ? "1" : "0",
                IU_LOG_LEVEL: args.logLevel,
                IU_READY_TIMEOUT: String(args.readyTimeoutSeconds),
            },
            stateDir: args.rootDir,
            privateSubdirs: ["config", "data"],
            deleteStateOnDestroy: args.deleteDataOnDestroy,
            protect: args.protect,
            timeoutSeconds: args.readyTimeoutSeconds + 30,
        });
        // Derived from the process step so everything using the URL waits for a running server; from
        // its id (stable across in-place updates) so a restart preview does not make the URL unknown
        // and every publish trigger with it.
        this.url = proc.id.apply(() => `http://${listen}`);
        this.pid = proc.stdout.apply((s) => Number(JSON.parse(s).pid));
        this.registerOutputs({ url: this.url, pid: this.pid });
    }
}
