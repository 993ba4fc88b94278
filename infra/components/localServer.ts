import * as pulumi from "@pulumi/pulumi";
import { LocalShell } from "../providers/shell";
import { script } from "./scripts";

export interface LocalServerArgs {
    projectRoot: string;
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
    /** Remove the root dir when the server is deleted (ephemeral stacks only). */
    deleteDataOnDestroy: boolean;
    protect: boolean;
}

/**
 * The dev runtime: a standalone SpacetimeDB process owned by the stack. `up` waits for
 * /v1/ping; delete stops it with SIGINT; a dead process is drift that the next preview shows
 * and the next `up` repairs.
 */
export class LocalServer extends pulumi.ComponentResource {
    readonly url: pulumi.Output<string>;
    readonly pid: pulumi.Output<number>;

    constructor(name: string, args: LocalServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("inner-universe:server:Local", name, {}, opts);
        const ctl = (action: string) => script(args.projectRoot, "server-ctl.sh", action);
        const listen = `${args.address}:${args.port}`;
        const env = {
            IU_SERVER_BIN: args.binary,
            IU_SERVER_VERSION: args.version,
            IU_ROOT_DIR: args.rootDir,
            IU_LISTEN: listen,
            IU_IN_MEMORY: args.inMemory ? "1" : "0",
            IU_LOG_LEVEL: args.logLevel,
            IU_READY_TIMEOUT: String(args.readyTimeoutSeconds),
            IU_DELETE_DATA: args.deleteDataOnDestroy ? "1" : "0",
        };
        const proc = new LocalShell(
            `${name}-process`,
            {
                create: ctl("start"),
                update: ctl("start"),
                check: ctl("status"),
                delete: ctl("stop"),
                environment: env,
                // Anything the process was started with: a change needs a restart.
                triggers: [args.binary, args.version, args.rootDir, listen, args.inMemory, args.logLevel],
                deleteBeforeReplace: true,
                timeoutSeconds: args.readyTimeoutSeconds + 30,
            },
            { parent: this, protect: args.protect, deleteBeforeReplace: true },
        );
        // Derived from the process step so that everything using the URL waits for a running server.
        this.url = proc.stdout.apply(() => `http://${listen}`);
        this.pid = proc.stdout.apply((s) => Number(JSON.parse(s).pid));
        this.registerOutputs({ url: this.url, pid: this.pid });
    }
}
