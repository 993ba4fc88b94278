// Dynamic provider of `Identity` (infra/spacetimedb/identity.ts): the deployer identity minted
// once on a server with POST /v1/identity.
//
// - create: POST /v1/identity until the server answers (within readyTimeoutSeconds).
// - diff: replace only when `scope` (where the server's signing keys live) changes; a new
//   serverUrl is an in-place update. It also asks the server (GET /v1/identity/<id>/verify,
//   5 s) whether the token is still accepted: a rejected token is a pending update whose
//   `update` fails with the cause and the fix, so keys regenerated under the stack show up in
//   preview instead of as a confusing publish failure.
// - read (refresh): the same check; `tokenAccepted` turns false (visible drift) with the message.
// - delete: nothing to do on the server (an identity cannot be deleted; its token is just dropped).
//
// State written by the former LocalShell step (`stdout` = {"identity","token"}, `triggers` =
// [scope]) is read as well: the resource aliases that step, so existing stacks keep the
// identity that owns their database.
//
// Erasable TypeScript, Node built-ins only (loaded by the dynamic-provider process).

import { ApiError, describeAnswer, retryUntil, send } from "./http-impl.ts";
import { interpretVerify, isUnknown, mintRequest, parseMinted, rejectedTokenMessage, type TokenStatus, verifyRequest } from "./protocol-impl.ts";

export interface IdentityInputs {
    serverUrl: string;
    scope: string;
    readyTimeoutSeconds: number;
    timeoutMs: number;
    /** URN of this resource, for the message that tells how to replace it. */
    selfUrn?: string;
    /** PEM of the private CA the server's https certificate chains to (project-relative); absent: the system's. */
    caCert?: string;
}

export interface IdentityOutputs {
    serverUrl: string;
    scope: string;
    identity: string;
    /** Secret (additionalSecretOutputs). */
    token: string;
    tokenAccepted: boolean;
    selfUrn?: string;
    caCert?: string;
}

/** Seconds the diff and refresh give the server to answer the token check. */
export const CHECK_TIMEOUT_MS = 5000;

interface KnownIdentity {
    identity: string;
    token: string;
    scope: string;
    /** Written by the former LocalShell step. */
    legacy: boolean;
    /** What the state says the last check found (false after a refresh saw the token rejected). */
    tokenAccepted?: boolean;
}

/** The identity a state holds, in the current or the former (LocalShell) shape. */
export function identityState(state: object): KnownIdentity {
    const olds = state as Record<string, unknown>;
    if (typeof olds.token === "string" && typeof olds.identity === "string") {
        return { identity: olds.identity, token: olds.token, scope: String(olds.scope ?? ""), legacy: false, ...(olds.tokenAccepted === false ? { tokenAccepted: false } : {}) };
    }
    if (typeof olds.stdout === "string") {
        const { identity, token } = parseMinted({ status: 200, body: olds.stdout });
        const triggers = Array.isArray(olds.triggers) ? olds.triggers : [];
        return { identity, token, scope: String(triggers[0] ?? ""), legacy: true };
    }
    throw new Error("the deployer identity's state holds no identity/token pair");
}

/**
 * The diff rule: scope → replace; an update for a new serverUrl, a rejected token, a former-shape
 * state, or a token accepted again after a refresh had recorded it rejected (keys restored).
 */
export function identityDiff(old: KnownIdentity, oldServerUrl: unknown, news: Partial<IdentityInputs>, token: TokenStatus | undefined): { changes: boolean; replaces: string[] } {
    if (isUnknown(news.scope) || news.scope !== old.scope) return { changes: true, replaces: ["scope"] };
    const changes = old.legacy || token === "rejected" || (token === "accepted" && old.tokenAccepted === false) || isUnknown(news.serverUrl) || news.serverUrl !== oldServerUrl;
    return { changes, replaces: [] };
}

export async function checkToken(serverUrl: string, known: KnownIdentity, timeoutMs: number, caCert?: string): Promise<{ status: TokenStatus | undefined; detail: string }> {
    const req = verifyRequest(known.identity, known.token);
    try {
        const res = await send(serverUrl, req, timeoutMs, caCert);
        return { status: interpretVerify(res), detail: describeAnswer(req, res) };
    } catch (e) {
        if (e instanceof ApiError) return { status: undefined, detail: e.message };
        throw e;
    }
}

function outputs(inputs: IdentityInputs, known: { identity: string; token: string }): IdentityOutputs {
    return {
        serverUrl: inputs.serverUrl,
        scope: inputs.scope,
        identity: known.identity,
        token: known.token,
        tokenAccepted: true,
        ...(inputs.selfUrn ? { selfUrn: inputs.selfUrn } : {}),
        ...(inputs.caCert ? { caCert: inputs.caCert } : {}),
    };
}

export async function create(inputs: IdentityInputs): Promise<{ id: string; outs: IdentityOutputs }> {
    const req = mintRequest();
    const minted = await retryUntil("POST /v1/identity did not answer 200", inputs.readyTimeoutSeconds, async () => {
        const res = await send(inputs.serverUrl, req, inputs.timeoutMs, inputs.caCert);
        return res.status === 200 ? { done: true, value: parseMinted(res) } : { done: false, reason: describeAnswer(req, res) };
    });
    return { id: minted.identity, outs: outputs(inputs, minted) };
}

export async function diff(_id: string, state: object, news: IdentityInputs) {
    const olds = state as Record<string, unknown>;
    const known = identityState(olds);
    const rule = identityDiff(known, olds.serverUrl, news, undefined);
    if (rule.replaces.length > 0 || isUnknown(news.serverUrl)) return { ...rule, deleteBeforeReplace: false };
    const token = await checkToken(news.serverUrl, known, CHECK_TIMEOUT_MS, news.caCert);
    if (token.status === "rejected") console.error(rejectedTokenMessage(known.scope, news.selfUrn, token.detail));
    return { ...identityDiff(known, olds.serverUrl, news, token.status), deleteBeforeReplace: false };
}

export async function update(_id: string, olds: object, news: IdentityInputs): Promise<{ outs: IdentityOutputs }> {
    const known = identityState(olds);
    // The server may be coming back from its own update: wait for an answer, not for acceptance.
    const token = await retryUntil(`GET /v1/identity/${known.identity}/verify did not answer`, news.readyTimeoutSeconds, async () => {
        const r = await checkToken(news.serverUrl, known, news.timeoutMs, news.caCert);
        return r.status ? { done: true, value: r } : { done: false, reason: r.detail };
    });
    if (token.status === "rejected") throw new Error(rejectedTokenMessage(known.scope, news.selfUrn, token.detail));
    return { outs: outputs(news, known) };
}

export async function read(id: string, state: object): Promise<{ id: string; props: Record<string, unknown> }> {
    const props = state as Record<string, unknown>;
    const known = identityState(props);
    const serverUrl = String(props.serverUrl ?? (props.environment as Record<string, unknown> | undefined)?.IU_SERVER_URL ?? "");
    if (!serverUrl) return { id, props };
    const token = await checkToken(serverUrl, known, CHECK_TIMEOUT_MS, typeof props.caCert === "string" ? props.caCert : undefined);
    if (token.status === undefined) {
        console.error(`refresh could not check the deployer token (state kept): ${token.detail}`);
        return { id, props };
    }
    if (token.status === "rejected") console.error(rejectedTokenMessage(known.scope, typeof props.selfUrn === "string" ? props.selfUrn : undefined, token.detail));
    return { id, props: { ...props, tokenAccepted: token.status === "accepted" } };
}

export async function remove(): Promise<void> {}
