import * as pulumi from "@pulumi/pulumi";
import { providerAt } from "../providers/load";

const provider = providerAt("infra/spacetimedb/remoteVersion-impl.ts");

export interface RemoteServerVersionArgs {
    serverUrl: string;
    version: string;
    timeoutMs: number;
    caCert?: string;
}

/** The version a remote server reports, stated in every preview (no gate: the server is not ours). */
export class RemoteServerVersion extends pulumi.dynamic.Resource {
    static readonly TYPE = "pulumi-nodejs:dynamic/spacetimedb:RemoteServerVersion";
    declare readonly plan: pulumi.Output<string>;

    constructor(name: string, args: RemoteServerVersionArgs, opts?: pulumi.CustomResourceOptions) {
        super(provider, name, { ...args, plan: undefined }, opts, "spacetimedb", "RemoteServerVersion");
    }
}
