import * as pulumi from "@pulumi/pulumi";
import { canonicalJson } from "../lib/canonicalJson";
import { providerAt } from "../providers/load";

const provider = providerAt("infra/spacetimedb/moduleSettings-impl.ts");

export interface ModuleSettingsArgs {
    serverUrl: pulumi.Input<string>;
    database: pulumi.Input<string>;
    token: pulumi.Input<string>;
    /** Each key becomes one set_config(key, JSON of value) call. */
    settings: Record<string, unknown>;
    /** The Database's revision: every publish re-sends the settings. */
    publishRevision: pulumi.Input<string>;
    timeoutMs: pulumi.Input<number>;
    /** PEM of the private CA the server's https certificate chains to (project-relative); absent: the system's. */
    caCert?: pulumi.Input<string>;
}

/** Settings written into the module's config table through its admin-only set_config reducer. */
export class ModuleSettings extends pulumi.dynamic.Resource {
    static readonly TYPE = "pulumi-nodejs:dynamic/spacetimedb:ModuleSettings";
    declare readonly keys: pulumi.Output<string[]>;
    declare readonly revision: pulumi.Output<string>;

    constructor(name: string, args: ModuleSettingsArgs, opts?: pulumi.CustomResourceOptions) {
        const { settings, ...rest } = args;
        super(provider, name, { ...rest, settingsJson: canonicalJson(settings), keys: undefined, revision: undefined }, opts, "spacetimedb", "ModuleSettings");
    }
}
