import * as pulumi from "@pulumi/pulumi";
import { providerAt } from "../providers/load";

const provider = providerAt("infra/spacetimedb/identity-impl.ts");

/** The type the deployer identity had as a LocalShell step (scripts/identity.sh); aliased so existing stacks keep it. */
export const LEGACY_SHELL_TYPE = "pulumi-nodejs:dynamic/inner-universe:LocalShell";

export interface IdentityArgs {
    serverUrl: pulumi.Input<string>;
    /** Where the server's JWT signing keys live; only a new scope mints a new identity. */
    scope: pulumi.Input<string>;
    /** How long create waits for the server to answer. */
    readyTimeoutSeconds: pulumi.Input<number>;
    /** Per request. */
    timeoutMs: pulumi.Input<number>;
    /** PEM of the private CA the server's https certificate chains to (project-relative); absent: the system's. */
    caCert?: pulumi.Input<string>;
    /** This resource's URN (see childUrn), named in the message about rejected tokens. */
    selfUrn?: pulumi.Input<string>;
}

/**
 * An identity minted on a SpacetimeDB server (POST /v1/identity). `token` is a secret output;
 * refresh and every diff check that the server still accepts it (infra/spacetimedb/identity-impl.ts).
 */
export class Identity extends pulumi.dynamic.Resource {
    static readonly TYPE = "pulumi-nodejs:dynamic/spacetimedb:Identity";
    declare readonly identity: pulumi.Output<string>;
    declare readonly token: pulumi.Output<string>;
    declare readonly tokenAccepted: pulumi.Output<boolean>;

    constructor(name: string, args: IdentityArgs, opts: pulumi.CustomResourceOptions = {}) {
        super(
            provider,
            name,
            { ...args, identity: undefined, token: undefined, tokenAccepted: undefined },
            { ...opts, additionalSecretOutputs: [...(opts.additionalSecretOutputs ?? []), "token"] },
            "spacetimedb",
            "Identity",
        );
    }
}

/** The URN a child of `parentUrn` gets: `urn:pulumi:<stack>::<project>::<parent types>$<type>::<name>`. */
export function childUrn(parentUrn: string, type: string, name: string): string {
    const parts = parentUrn.split("::");
    if (parts.length < 4) throw new Error(`not a URN: ${parentUrn}`);
    return [parts[0], parts[1], `${parts[2]}$${type}`, name].join("::");
}
