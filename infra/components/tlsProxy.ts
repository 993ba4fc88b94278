import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { LocalShell } from "../providers/shell";
import { renderCaddyfile } from "../render/caddyfile";
import { script } from "./scripts";

export interface TlsProxyArgs {
    projectRoot: string;
    caddyBinary: string;
    /** Per-stack directory for the Caddyfile, the private CA and logs. */
    dir: string;
    httpsPort: number;
    upstream: string;
    database: string;
    exposeCall: boolean;
    exposeSql: boolean;
    authRequired: boolean;
    timeoutMs: number;
    readyTimeoutSeconds: number;
    deleteDataOnDestroy: boolean;
}

/**
 * Real TLS in front of a local server: Caddy with its own CA, bound to loopback, forwarding only
 * the public route matrix (the same one production uses), so dev exercises what clients see.
 */
export class TlsProxy extends pulumi.ComponentResource {
    readonly httpsUrl: string;
    readonly wssUrl: string;
    readonly caCertPath: string;
    readonly ready: pulumi.Output<string>;

    constructor(name: string, args: TlsProxyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("inner-universe:tls:LocalProxy", name, {}, opts);
        this.httpsUrl = `https://127.0.0.1:${args.httpsPort}`;
        this.wssUrl = `wss://127.0.0.1:${args.httpsPort}`;
        this.caCertPath = path.join(args.dir, "data", "caddy", "pki", "authorities", "local", "root.crt");
        const caddyfile = renderCaddyfile({
            site: `${this.httpsUrl}, https://localhost:${args.httpsPort}`,
            bind: ["127.0.0.1"],
            upstream: args.upstream,
            tls: { mode: "internal" },
            deployCidrs: [],
            authRequired: args.authRequired,
            timeoutMs: args.timeoutMs,
            database: args.database,
            exposeCall: args.exposeCall,
            exposeSql: args.exposeSql,
            accessLog: path.join(args.dir, "access.log"),
        });
        const ctl = (action: string) => script(args.projectRoot, "proxy-ctl.sh", action);
        const proc = new LocalShell(
            `${name}-caddy`,
            {
                create: ctl("start"),
                update: ctl("start"),
                check: ctl("status"),
                delete: ctl("stop"),
                environment: {
                    IU_CADDY_BIN: args.caddyBinary,
                    IU_PROXY_DIR: args.dir,
                    IU_CADDYFILE_B64: Buffer.from(caddyfile).toString("base64"),
                    IU_HTTPS_URL: this.httpsUrl,
                    IU_READY_TIMEOUT: String(args.readyTimeoutSeconds),
                    IU_DELETE_DATA: args.deleteDataOnDestroy ? "1" : "0",
                },
                triggers: [args.caddyBinary, args.dir, args.httpsPort],
                deleteBeforeReplace: true,
                timeoutSeconds: args.readyTimeoutSeconds + 30,
            },
            { parent: this, deleteBeforeReplace: true },
        );
        this.ready = proc.stdout;
        this.registerOutputs({ httpsUrl: this.httpsUrl, caCertPath: this.caCertPath });
    }
}
