/**
 * SpacetimeDB tokens are JWTs whose claims carry `hex_identity`. No imports: the program (a supplied
 * deployer_token) and the identity provider (a minted one) both read it.
 */
export function identityOfToken(token: string): string {
    const parts = token.split(".");
    if (parts.length !== 3) throw new Error("inner-universe:deployer_token: expected a SpacetimeDB JWT (three dot-separated parts)");
    const claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as { hex_identity?: unknown };
    if (typeof claims.hex_identity !== "string" || !/^[0-9a-f]{64}$/.test(claims.hex_identity)) {
        throw new Error("inner-universe:deployer_token: the token carries no hex_identity claim; mint one with POST /v1/identity");
    }
    return claims.hex_identity;
}
