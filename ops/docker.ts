import * as http from "node:http";

/**
 * The Docker Engine API on its unix socket (DOCKER_SOCKET, default /var/run/docker.sock): what the
 * container backups drive and what @pulumi/docker's provider talks to (the e2e suite hands the
 * program's container spec to the daemon through it). Answers are parsed as JSON when they are.
 */
const SOCKET = process.env.DOCKER_SOCKET ?? "/var/run/docker.sock";

export function docker<T = any>(method: string, route: string, body?: unknown): Promise<{ status: number; json: T }> {
    return new Promise((resolve, reject) => {
        const req = http.request({ socketPath: SOCKET, path: `/v1.41${route}`, method, headers: { "Content-Type": "application/json" } }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => {
                const text = Buffer.concat(chunks).toString("utf8");
                let json: any = text;
                try {
                    json = text ? JSON.parse(text) : {};
                } catch {
                    /* a plain-text answer */
                }
                resolve({ status: res.statusCode ?? 0, json });
            });
        });
        req.on("error", reject);
        if (body !== undefined) req.write(JSON.stringify(body));
        req.end();
    });
}
