import * as https from "node:https";
import type { PeerCertificate, TLSSocket } from "node:tls";

export interface FrontReply {
    status: number;
    body: string;
    /** The certificate the front presented (verified against `ca` for `domain`). */
    cert: PeerCertificate;
}

/**
 * One HTTPS request to a drilled host's front at `ip`, as a client that resolved `domain` to it:
 * SNI and Host are the domain, and the certificate must chain to `ca` (the drill's ACME CA root).
 */
export function frontRequest(
    ip: string,
    domain: string,
    ca: string,
    method: string,
    path: string,
    opts: { token?: string; body?: string | Buffer; contentType?: string; timeoutMs?: number } = {},
): Promise<FrontReply> {
    const headers: Record<string, string> = { Host: domain };
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers["Content-Type"] = opts.contentType ?? "application/json";
    return new Promise((resolve, reject) => {
        const req = https.request({ host: ip, port: 443, servername: domain, ca, method, path, headers, timeout: opts.timeoutMs ?? 15_000, agent: false }, (res) => {
            const cert = (res.socket as TLSSocket).getPeerCertificate();
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), cert }));
        });
        req.on("timeout", () => req.destroy(new Error(`timeout: ${method} https://${domain}${path} at ${ip}`)));
        req.on("error", reject);
        if (opts.body !== undefined) req.write(opts.body);
        req.end();
    });
}
