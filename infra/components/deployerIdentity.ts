import * as pulumi from "@pulumi/pulumi";
import { identityOfToken } from "../lib/token";
import { childUrn, Identity, LEGACY_SHELL_TYPE } from "../spacetimedb/identity";

export interface DeployerIdentityArgs {
    /** Server the identity is minted on. */
    serverUrl: pulumi.Input<string>;
    /**
     * What the identity is valid for: the server's signing keys (its root dir or volume). Only a
     * new scope mints a new identity; a new port or address keeps the old one.
     */
    scope: pulumi.Input<string>;
    /** Supplied token (Pulumi secret); when absent, one is minted once per stack. */
    token?: pulumi.Output<string>;
    readyTimeoutSeconds: number;
    /** Per request. */
    timeoutMs: number;
    /** CA of serverUrl's https certificate (a remote server behind a private CA), project-relative. */
    caCert?: string;
}

/**
 * The identity that owns the database. SpacetimeDB gives ownership to whoever first publishes,
 * so a token minted per publish would lock every later runner out; this one lives in the
 * stack's state as a secret and is reused by every `up`, from any machine. Refresh and every
 * preview check that the server still accepts it (regenerated signing keys would not).
 */
export class DeployerIdentity extends pulumi.ComponentResource {
    readonly token: pulumi.Output<string>;
    readonly identity: pulumi.Output<string>;

    constructor(name: string, args: DeployerIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
        super("inner-universe:auth:DeployerIdentity", name, {}, opts);
        if (args.token) {
            this.token = pulumi.secret(args.token);
            this.identity = pulumi.unsecret(args.token.apply(identityOfToken));
        } else {
            const mintName = `${name}-mint`;
            const mint = new Identity(
                mintName,
                {
                    serverUrl: args.serverUrl,
                    scope: args.scope,
                    readyTimeoutSeconds: args.readyTimeoutSeconds,
                    timeoutMs: args.timeoutMs,
                    ...(args.caCert ? { caCert: args.caCert } : {}),
                    selfUrn: this.urn.apply((parent) => childUrn(parent, Identity.TYPE, mintName)),
                },
                // Formerly a LocalShell step (scripts/identity.sh): the alias keeps the identity that owns the database.
                { parent: this, aliases: [{ type: LEGACY_SHELL_TYPE }] },
            );
            this.token = pulumi.secret(mint.token);
            this.identity = pulumi.unsecret(mint.identity);
        }
        this.registerOutputs({ identity: this.identity });
    }
}
