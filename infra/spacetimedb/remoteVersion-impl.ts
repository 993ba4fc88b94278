// Dynamic provider of `RemoteServerVersion` (infra/spacetimedb/remoteVersion.ts): runtime remote
// runs no server of ours, so there is no upgrade gate. What a preview can still say is which
// version the server runs (GET /v1/health), so a change made by its operator shows as a changed
// `plan` in the next preview, next to what spacetimedb.version claims.
//
// Erasable TypeScript, Node built-ins only (loaded by the dynamic-provider process).

import { reportedVersion } from "./upgrade-impl.ts";

export interface RemoteVersionInputs {
    serverUrl: string;
    /** spacetimedb.version: what the stack says the server runs. */
    version: string;
    timeoutMs: number;
    caCert?: string;
    plan?: string;
}

export function remotePlan(reported: string | undefined, configured: string): string {
    const note = "runtime remote: its operator upgrades it, no upgrade gate here";
    if (!reported) return `server version not reported by /v1/health (spacetimedb.version says ${configured}; ${note})`;
    if (reported !== configured) return `server ${reported}, but spacetimedb.version says ${configured} (${note})`;
    return `server ${reported} (${note})`;
}

export async function check(_olds: unknown, news: RemoteVersionInputs) {
    return { inputs: { ...news, plan: remotePlan(await reportedVersion(news, news.caCert), news.version) } };
}

export async function diff(_id: string, olds: RemoteVersionInputs, news: RemoteVersionInputs) {
    return { changes: olds.plan !== news.plan || olds.serverUrl !== news.serverUrl };
}

export async function create(inputs: RemoteVersionInputs) {
    return { id: "remote-version", outs: inputs };
}

export async function update(_id: string, _olds: RemoteVersionInputs, news: RemoteVersionInputs) {
    return { outs: news };
}

export async function remove() {}
