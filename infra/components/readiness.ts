import * as pulumi from "@pulumi/pulumi";
import { ReadinessProbe } from "../spacetimedb/readiness";

export interface ReadinessArgs {
    serverUrl: pulumi.Input<string>;
    /** Also ping the public (TLS) endpoint when set. */
    publicUrl?: pulumi.Input<string>;
    /** Private CA of the public endpoint (the local Caddy's), relative to the project root. */
    publicCaCert?: pulumi.Input<string>;
    database: string;
    token: pulumi.Input<string>;
    /** Re-run whenever this changes (the publish revision). */
    revision: pulumi.Input<string>;
    timeoutSeconds: number;
    timeoutMs: number;
    /** CA of serverUrl's https certificate (a remote server behind a private CA), project-relative. */
    caCert?: string;
}

/**
 * `up` succeeds only when the server answers /v1/ping and the module's initial data is readable.
 * The same probe runs (briefly) on every preview and `up`: an unhealthy database shows up as a
 * pending change instead of hiding behind an unchanged state file.
 */
export class Readiness extends pulumi.ComponentResource {
    readonly report: pulumi.Output<string>;

    constructor(name: string, args: ReadinessArgs, opts?: pulumi.ComponentResourceOptions) {
        super("inner-universe:module:Readiness", name, {}, opts);
        const probe = new ReadinessProbe(
            `${name}-probe`,
            {
                serverUrl: args.serverUrl,
                database: args.database,
                token: args.token,
                revision: args.revision,
                ...(args.publicUrl ? { publicUrl: args.publicUrl } : {}),
                ...(args.publicCaCert ? { publicCaCert: args.publicCaCert } : {}),
                timeoutSeconds: args.timeoutSeconds,
                timeoutMs: args.timeoutMs,
                ...(args.caCert ? { caCert: args.caCert } : {}),
            },
            { parent: this },
        );
        this.report = probe.report;
        this.registerOutputs({ report: this.report });
    }
}
