import * as pulumi from "@pulumi/pulumi";
import { LocalShell } from "../providers/shell";
import { script } from "./scripts";

export interface DeployerIdentityArgs {
    /** Server the identity is minted on. */
    serverUrl: pulumi.Input<string>;
    /**
     * What the identity is valid for: the server's signing keys (its root dir or volume). Only a
     * new scope mints a new identity; a new port or address keeps the old one.
     */
    scope: pulumi.Input<string>;
    caCert?: pulumi.Input<string>;
    /** Supplied token (Pulumi secret); when absent, one is minted once per stack. */
    token?: pulumi.Output<string>;
    readyTimeoutSeconds: number;
}

/**
 * The identity that owns the database. SpacetimeDB gives ownership to whoever first publishes,
 * so a token minted per publish would lock every later runner out; this one lives in the
 * stack's state as a secret and is reused by every `up`, from any machine.
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
            const mint = new LocalShell(
                `${name}-mint`,
                {
                    create: script("identity.sh"),
                    environment: {
                        IU_SERVER_URL: args.serverUrl,
                        IU_CA_CERT: args.caCert ?? "",
                        IU_READY_TIMEOUT: String(args.readyTimeoutSeconds),
                    },
                    // Re-minting is never wanted while the keys live: the old identity owns the database.
                    triggers: [args.scope],
                },
                { parent: this, additionalSecretOutputs: ["stdout"], ignoreChanges: ["environment"] },
            );
            const minted = mint.stdout.apply(parseMinted);
            this.token = pulumi.secret(minted.token);
            this.identity = pulumi.unsecret(minted.identity);
        }
        this.registerOutputs({ identity: this.identity });
    }
}

export function parseMinted(stdout: string): { identity: string; token: string } {
    const parsed = JSON.parse(stdout) as { identity?: unknown; token?: unknown };
    if (typeof parsed.identity !== "string" || typeof parsed.token !== "string") {
        throw new Error("POST /v1/identity returned no identity/token pair");
    }
    return { identity: parsed.identity, token: parsed.token };
}

/** SpacetimeDB tokens are JWTs whose claims carry `hex_identity`. */
export function identityOfToken(token: string): string {
    const parts = token.split(".");
    if (parts.length !== 3) throw new Error("inner-universe:deployer_token: expected a SpacetimeDB JWT (three dot-separated parts)");
    const claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as { hex_identity?: unknown };
    if (typeof claims.hex_identity !== "string" || !/^[0-9a-f]{64}$/.test(claims.hex_identity)) {
        throw new Error("inner-universe:deployer_token: the token carries no hex_identity claim; mint one with POST /v1/identity");
    }
    return claims.hex_identity;
}
