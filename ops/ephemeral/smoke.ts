import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import { type AtlasOutput, atlasOutputSchema } from "../../infra/contract/atlas";

/**
 * What a client sees of a fresh stack, checked the way Atlas would reach it: only through the
 * atlas output, only through the public (TLS) endpoint, trusting only the stack's own CA.
 */

export interface SmokeContext {
    stack: string;
    atlas: unknown;
    /** Workspace directory (holds Pulumi.<stack>.yaml) — for hooks that run the pulumi CLI. */
    workDir: string;
    /** `<state_dir>/<stack>`: the server root, the proxy dir and their pid files. */
    stackDir: string;
    /** Environment under which `pulumi` reaches this stack's backend. */
    env: Record<string, string>;
    signal: AbortSignal;
}

export type SmokeTest = (ctx: SmokeContext) => Promise<void>;

export interface HttpResult {
    status: number;
    body: string;
}

export const defaultSmoke: SmokeTest = async ({ atlas: raw, signal }) => {
    const parsed = atlasOutputSchema.safeParse(raw);
    if (!parsed.success) throw new Error(`smoke: atlas output invalid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    const atlas = parsed.data;
    const ca = caOf(atlas);

    const ping = await request(atlas.http.url, "GET", "/v1/ping", { ca, signal });
    if (ping.status !== 200) throw new Error(`smoke: GET /v1/ping answered ${ping.status}`);

    // Behind the TLS proxy the public route matrix must hold: metrics are unauthenticated on the server itself.
    if (atlas.tls.enabled) {
        const metrics = await request(atlas.http.url, "GET", "/v1/metrics", { ca, signal });
        if (metrics.status === 200) throw new Error("smoke: /v1/metrics is reachable through the public endpoint");
    }

    const minted = await request(atlas.http.url, "POST", "/v1/identity", { ca, signal });
    if (minted.status !== 200) throw new Error(`smoke: POST /v1/identity answered ${minted.status}`);
    const { token } = JSON.parse(minted.body) as { token?: string };
    if (!token) throw new Error("smoke: POST /v1/identity returned no token");

    const upgrade = await websocketHandshake(atlas.ws.url, `/v1/database/${atlas.database.name}/subscribe`, token, { ca, signal });
    if (upgrade !== 101) throw new Error(`smoke: WebSocket subscribe to ${atlas.database.name} answered ${upgrade}, expected 101`);
};

function caOf(atlas: AtlasOutput): Buffer | undefined {
    if (!atlas.tls.enabled || !atlas.tls.caCertPath) return undefined;
    if (!fs.existsSync(atlas.tls.caCertPath)) throw new Error(`smoke: tls.caCertPath ${atlas.tls.caCertPath} does not exist`);
    return fs.readFileSync(atlas.tls.caCertPath);
}

interface RequestOptions {
    ca: Buffer | undefined;
    signal: AbortSignal;
    headers?: Record<string, string>;
}

export function request(base: string, method: string, path: string, opts: RequestOptions): Promise<HttpResult> {
    const url = new URL(path, base);
    const lib = url.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
        const req = lib.request(url, { method, timeout: 10_000, signal: opts.signal, headers: opts.headers, ...(opts.ca ? { ca: opts.ca } : {}) }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (c: string) => (body += c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on("timeout", () => req.destroy(new Error(`${method} ${url.href} timed out`)));
        req.on("error", reject);
        req.end();
    });
}

/** Resolves with the HTTP status of a WebSocket upgrade (101 on success). */
export function websocketHandshake(wsBase: string, path: string, token: string, opts: RequestOptions): Promise<number> {
    const url = new URL(path, wsBase.replace(/^ws/, "http"));
    const lib = url.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
        const req = lib.request(url, {
            method: "GET",
            timeout: 10_000,
            signal: opts.signal,
            ...(opts.ca ? { ca: opts.ca } : {}),
            headers: {
                Connection: "Upgrade",
                Upgrade: "websocket",
                "Sec-WebSocket-Version": "13",
                "Sec-WebSocket-Key": randomBytes(16).toString("base64"),
                "Sec-WebSocket-Protocol": "v1.json.spacetimedb",
                Authorization: `Bearer ${token}`,
            },
        });
        req.on("upgrade", (res, socket) => {
            socket.destroy();
            resolve(res.statusCode ?? 0);
        });
        req.on("response", (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
        });
        req.on("timeout", () => req.destroy(new Error(`WebSocket handshake to ${url.href} timed out`)));
        req.on("error", reject);
        req.end();
    });
}
