import * as fs from "node:fs";
import * as https from "node:https";
import * as http from "node:http";
import { atlasOutputSchema, type AtlasOutput } from "../../infra/contract/atlas";

export interface StatusReport {
    healthy: boolean;
    text: string;
}

/** What a person asks of a running stack: last update, resource count, and is it answering. */
export async function stackStatus(
    stack: string,
    outputs: Record<string, unknown>,
    last?: { kind: string; result: string; endTime?: string; startTime: string },
): Promise<StatusReport> {
    const lines = [`stack: ${stack}`];
    if (last) lines.push(`last update: ${last.kind} ${last.result} at ${last.endTime ?? last.startTime}`);
    const parsed = atlasOutputSchema.safeParse(outputs.atlas);
    if (!parsed.success) {
        lines.push("atlas output: missing or invalid (run up)");
        return { healthy: false, text: lines.join("\n") };
    }
    const atlas = parsed.data;
    lines.push(`endpoint: ${atlas.http.url} (database ${atlas.database.name}, module ${atlas.module.sha256.slice(0, 12)})`);
    const ping = await pingUrl(atlas);
    lines.push(`ping: ${ping}`);
    return { healthy: ping === "200", text: lines.join("\n") };
}

export function pingUrl(atlas: AtlasOutput): Promise<string> {
    const url = new URL("/v1/ping", atlas.http.url);
    const ca = atlas.tls.caCertPath && fs.existsSync(atlas.tls.caCertPath) ? fs.readFileSync(atlas.tls.caCertPath) : undefined;
    return new Promise((resolve) => {
        const lib = url.protocol === "https:" ? https : http;
        const req = lib.get(url, { timeout: 5000, ...(ca ? { ca } : {}) }, (res) => {
            res.resume();
            resolve(String(res.statusCode));
        });
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", (e) => resolve(`unreachable (${e.message})`));
    });
}
