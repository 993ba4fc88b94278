// One way to call the SpacetimeDB HTTP API from the deploy steps (the dynamic providers).
//
// Loaded by Pulumi's dynamic-provider process through Node's type stripping: erasable
// TypeScript only, Node built-ins and the global fetch.
//
// Every failure names the method, the route, the status and (an excerpt of) the body; the
// bearer token is sent in a header and never appears in a message.

import * as fs from "node:fs";
import * as https from "node:https";

export interface ApiRequest {
    method: "GET" | "POST" | "PUT";
    /** Path and query, e.g. `/v1/database/x?clear=false`. */
    route: string;
    token?: string;
    body?: string | Uint8Array;
    contentType?: string;
}

export interface ApiResponse {
    status: number;
    body: string;
}

const MAX_BODY_IN_MESSAGE = 2000;

/** An HTTP call that failed: no answer (`status` undefined) or an unexpected status. */
export class ApiError extends Error {
    readonly status: number | undefined;
    readonly body: string;
    constructor(message: string, status: number | undefined, body: string) {
        super(message);
        this.name = "ApiError";
        this.status = status;
        this.body = body;
    }
}

/** Removes the token from text that is about to be shown, should a server ever echo it. */
export function redact(text: string, token: string | undefined): string {
    return token ? text.split(token).join("<token>") : text;
}

function excerpt(body: string): string {
    const trimmed = body.trim();
    if (trimmed === "") return "(empty body)";
    return trimmed.length > MAX_BODY_IN_MESSAGE ? `${trimmed.slice(0, MAX_BODY_IN_MESSAGE)}… (${trimmed.length} chars)` : trimmed;
}

/** `PUT /v1/database/x?clear=false answered HTTP 400: <body>`. */
export function describeAnswer(req: ApiRequest, res: ApiResponse): string {
    return redact(`${req.method} ${req.route} answered HTTP ${res.status}: ${excerpt(res.body)}`, req.token);
}

export function joinUrl(baseUrl: string, route: string): string {
    return `${baseUrl.replace(/\/+$/, "")}${route}`;
}

/**
 * Sends one request; a network failure or timeout throws an ApiError without a status.
 * `caFile` (PEM, relative to the working directory: the project root for providers) is the
 * private CA an https server's certificate chains to; the global fetch takes no CA, so such a
 * request goes through node:https.
 */
export async function send(baseUrl: string, req: ApiRequest, timeoutMs: number, caFile?: string): Promise<ApiResponse> {
    const headers: Record<string, string> = {};
    if (req.token) headers["Authorization"] = `Bearer ${req.token}`;
    if (req.contentType) headers["Content-Type"] = req.contentType;
    const url = joinUrl(baseUrl, req.route);
    if (caFile && url.startsWith("https:")) return sendWithCa(url, req, headers, timeoutMs, caFile);
    let res: Response;
    try {
        res = await fetch(url, {
            method: req.method,
            headers,
            ...(req.body !== undefined ? { body: req.body } : {}),
            signal: AbortSignal.timeout(timeoutMs),
        });
    } catch (e) {
        throw new ApiError(redact(`${req.method} ${req.route} on ${baseUrl} failed: ${causeOf(e)}`, req.token), undefined, "");
    }
    return { status: res.status, body: await res.text() };
}

function sendWithCa(url: string, req: ApiRequest, headers: Record<string, string>, timeoutMs: number, caFile: string): Promise<ApiResponse> {
    const u = new URL(url);
    const fail = (e: unknown) => new ApiError(redact(`${req.method} ${req.route} on ${u.origin} failed: ${causeOf(e)}`, req.token), undefined, "");
    let ca: Buffer;
    try {
        ca = fs.readFileSync(caFile);
    } catch (e) {
        return Promise.reject(fail(new Error(`cannot read the CA certificate ${caFile}: ${(e as Error).message}`)));
    }
    return new Promise((resolve, reject) => {
        const r = https.request(u, { method: req.method, headers, ca, timeout: timeoutMs }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (d: string) => (body += d));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
            res.on("error", (e) => reject(fail(e)));
        });
        r.on("timeout", () => r.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        r.on("error", (e) => reject(fail(e)));
        r.end(req.body);
    });
}

export function causeOf(e: unknown): string {
    if (e instanceof Error) {
        const cause = (e as Error & { cause?: unknown }).cause;
        if (e.name === "TimeoutError" || e.name === "AbortError") return `no answer (${e.message})`;
        if (cause instanceof Error) return `${e.message}: ${cause.message}`;
        return e.message;
    }
    return String(e);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export type Attempt<T> = { done: true; value: T } | { done: false; reason: string };

/**
 * Repeats `attempt` (once a second) until it is done or `timeoutSeconds` have passed; then
 * throws `what` with the last reason. An ApiError thrown by an attempt counts as a reason.
 */
export async function retryUntil<T>(what: string, timeoutSeconds: number, attempt: () => Promise<Attempt<T>>, intervalMs = 1000): Promise<T> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
        let reason: string;
        try {
            const r = await attempt();
            if (r.done) return r.value;
            reason = r.reason;
        } catch (e) {
            if (!(e instanceof ApiError)) throw e;
            reason = e.message;
        }
        if (Date.now() + intervalMs > deadline) throw new Error(`${what} within ${timeoutSeconds}s: ${reason}`);
        await sleep(intervalMs);
    }
}

/** GET of a public URL that may sit behind a private CA (the local Caddy's). */
export function getWithCa(url: string, caFile: string | undefined, timeoutMs: number): Promise<ApiResponse> {
    const u = new URL(url);
    return send(u.origin, { method: "GET", route: `${u.pathname}${u.search}` }, timeoutMs, caFile);
}
