import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";

export interface Reply {
    status: number;
    body: string;
}

/** One HTTP(S) request; `ca` is the private CA of a TLS front. */
export function request(method: string, url: string, opts: { token?: string; body?: string | Buffer; ca?: string; contentType?: string } = {}): Promise<Reply> {
    const u = new URL(url);
    const lib = u.protocol === "https:" ? https : http;
    const headers: Record<string, string> = {};
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers["Content-Type"] = opts.contentType ?? "application/json";
    return new Promise((resolve, reject) => {
        const req = lib.request(u, { method, headers, timeout: 15_000, ...(opts.ca ? { ca: fs.readFileSync(opts.ca) } : {}) }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        });
        req.on("timeout", () => req.destroy(new Error(`timeout: ${method} ${url}`)));
        req.on("error", reject);
        if (opts.body !== undefined) req.write(opts.body);
        req.end();
    });
}

/** Rows of a SQL statement over HTTP, as arrays of column values. */
export async function sqlRows(serverUrl: string, db: string, query: string, token?: string): Promise<unknown[][]> {
    const r = await request("POST", `${serverUrl}/v1/database/${db}/sql`, { body: query, contentType: "text/plain", ...(token ? { token } : {}) });
    if (r.status !== 200) throw new Error(`sql ${query} -> ${r.status} ${r.body}`);
    return (JSON.parse(r.body) as { rows: unknown[][] }[])[0]!.rows;
}

export async function callReducer(serverUrl: string, db: string, reducer: string, args: unknown[], token?: string): Promise<Reply> {
    return request("POST", `${serverUrl}/v1/database/${db}/call/${reducer}`, { body: JSON.stringify(args), ...(token ? { token } : {}) });
}

export async function mintIdentity(baseUrl: string, ca?: string): Promise<{ identity: string; token: string }> {
    const r = await request("POST", `${baseUrl}/v1/identity`, ca ? { ca } : {});
    if (r.status !== 200) throw new Error(`POST /v1/identity -> ${r.status} ${r.body}`);
    return JSON.parse(r.body) as { identity: string; token: string };
}
