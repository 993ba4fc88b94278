import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { caddyCaRoot } from "../lib/localLayout";
import { renderCaddyfile } from "../render/caddyfile";
import { localDaemon } from "./daemon";

export interface TlsProxyArgs {
    caddyBinary: string;
    /** Per-stack directory for the Caddyfile, the private CA and logs. */
    dir: string;
    httpsPort: number;
    upstream: string;
    /** The upstream server's URL as an output of the server: the proxy starts after it. */
    upstreamReady: pulumi.Input<string>;
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
        // Where Caddy (XDG_DATA_HOME=<dir>/data) keeps its internal CA's root; proxy-ctl.sh is told, never guesses.
        this.caCertPath = caddyCaRoot(path.join(args.dir, "data"));
        const proc = localDaemon(name, this, {
            ctl: "proxy-ctl.sh",
            environment: {
                IU_CADDY_BIN: args.caddyBinary,
                IU_PROXY_DIR: args.dir,
                IU_CADDYFILE_B64: Buffer.from(proxyCaddyfile(args, this.httpsUrl)).toString("base64"),
                IU_HTTPS_URL: this.httpsUrl,
                IU_CA_CERT: this.caCertPath,
                IU_UPSTREAM_URL: args.upstreamReady,
                IU_READY_TIMEOUT: String(args.readyTimeoutSeconds),
            },
            // The private CA lives here: replacing Caddy must not mint a new one clients don't trust.
            stateDir: args.dir,
            privateSubdirs: ["data"],
            deleteStateOnDestroy: args.deleteDataOnDestroy,
            protect: false,
            timeoutSeconds: args.readyTimeoutSeconds + 30,
        });
        // From the id, like the server URL: known across in-place restarts, so previews stay precise.
        this.ready = proc.id.apply(() => this.httpsUrl);
        this.registerOutputs({ httpsUrl: this.httpsUrl, caCertPath: this.caCertPath });
    }
}

/** Caddy's internal CA on loopback (by IP and as localhost), logging where the proxy's files live. */
function proxyCaddyfile(args: TlsProxyArgs, httpsUrl: string): string {
    return renderCaddyfile({
        site: `${httpsUrl}, https://localhost:${args.httpsPort}`,
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
}
