import * as http from "node:http";
import * as https from "node:https";
import * as tls from "node:tls";

/**
 * The two network primitives `status` needs, with a private CA when the endpoint has one (the
 * local Caddy front): an HTTP request (node:http/https, since fetch cannot take a CA without an
 * extra dispatcher library) and the endpoint's TLS certificate.
 */

export interface HttpAnswer {
    status: number;
    body: string;
}

export function request(url: string, opts: { method?: string; token?: string; body?: string; contentType?: string; ca?: Buffer; timeoutMs?: number } = {}): Promise<HttpAnswer> {
    const u = new URL(url);
    const lib = u.protocol === "https:" ? https : http;
    const headers: Record<string, string> = {};
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers["Content-Type"] = opts.contentType ?? "text/plain";
    return new Promise((resolve, reject) => {
        const req = lib.request(u, { method: opts.method ?? "GET", headers, timeout: opts.timeoutMs ?? 5000, ...(opts.ca ? { ca: opts.ca } : {}) }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (d: string) => (body += d));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on("timeout", () => req.destroy(new Error(`timeout after ${opts.timeoutMs ?? 5000} ms`)));
        req.on("error", reject);
        if (opts.body !== undefined) req.write(opts.body);
        req.end();
    });
}

export interface CertFacts {
    /** CN, else the subject alternative names (Caddy's internal certificates for an IP have no CN). */
    subject: string;
    issuer: string;
    validFrom: string;
    validTo: string;
    /** Whole days until expiry (negative once expired). */
    daysLeft: number;
    /** Share of the certificate's lifetime still ahead (0 once expired): comparable across 12-hour and 90-day certificates. */
    remainingFraction: number;
    /** Whether the chain verified against the system roots or the given CA. */
    trusted: boolean;
    error?: string;
}

/** The certificate an https:// endpoint presents (SNI = its host name). */
export function certificateOf(url: string, ca?: Buffer, now: Date = new Date()): Promise<CertFacts> {
    const u = new URL(url);
    const port = Number(u.port || 443);
    return new Promise((resolve, reject) => {
        const socket = tls.connect({ host: u.hostname, port, servername: isIp(u.hostname) ? undefined : u.hostname, rejectUnauthorized: false, ...(ca ? { ca } : {}) }, () => {
            const cert = socket.getPeerCertificate();
            socket.end();
            if (!cert?.valid_to) return reject(new Error(`${u.host} presented no certificate`));
            const validTo = new Date(cert.valid_to);
            const validFrom = new Date(cert.valid_from);
            const lifetime = validTo.getTime() - validFrom.getTime();
            resolve({
                subject: first(cert.subject?.CN) || (cert.subjectaltname ?? "").replace(/(DNS|IP Address):/g, ""),
                issuer: first(cert.issuer?.CN ?? cert.issuer?.O),
                validFrom: validFrom.toISOString(),
                validTo: validTo.toISOString(),
                daysLeft: Math.floor((validTo.getTime() - now.getTime()) / 86_400_000),
                remainingFraction: lifetime > 0 ? Math.max(0, Math.round(((validTo.getTime() - now.getTime()) / lifetime) * 1000) / 1000) : 0,
                trusted: socket.authorized,
                ...(socket.authorizationError ? { error: String(socket.authorizationError) } : {}),
            });
        });
        socket.setTimeout(5000, () => socket.destroy(new Error(`TLS handshake with ${u.host} timed out`)));
        socket.on("error", reject);
    });
}

const first = (v: string | string[] | undefined): string => (Array.isArray(v) ? (v[0] ?? "") : (v ?? ""));

function isIp(host: string): boolean {
    return /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(":");
}
