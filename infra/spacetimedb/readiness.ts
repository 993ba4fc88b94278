import * as pulumi from "@pulumi/pulumi";
import { providerAt } from "../providers/load";

const provider = providerAt("infra/spacetimedb/readiness-impl.ts");

export interface ReadinessProbeArgs {
    serverUrl: pulumi.Input<string>;
    database: pulumi.Input<string>;
    token: pulumi.Input<string>;
    /** Probe again whenever this changes (the publish revision). */
    revision: pulumi.Input<string>;
    /** Also GET <publicUrl>/v1/ping, trusting `publicCaCert` (relative to the project root) when set. */
    publicUrl?: pulumi.Input<string>;
    publicCaCert?: pulumi.Input<string>;
    timeoutSeconds: pulumi.Input<number>;
    timeoutMs: pulumi.Input<number>;
    /** CA of serverUrl's https certificate (remote servers), relative to the project root. */
    caCert?: pulumi.Input<string>;
}

/** Succeeds once /v1/ping answers and the module's initial rows are readable; re-probed (5 s) on every diff. */
export class ReadinessProbe extends pulumi.dynamic.Resource {
    static readonly TYPE = "pulumi-nodejs:dynamic/spacetimedb:Readiness";
    declare readonly report: pulumi.Output<string>;

    constructor(name: string, args: ReadinessProbeArgs, opts?: pulumi.CustomResourceOptions) {
        super(provider, name, { ...args, report: undefined }, opts, "spacetimedb", "Readiness");
    }
}
