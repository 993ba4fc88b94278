// Dynamic provider of `Readiness` (infra/spacetimedb/readiness.ts): `up` fails unless the
// server answers GET /v1/ping and the module's initial data is readable over SQL (the
// module_config row and the SYSTEM_INITIALIZED event), and, when set, the public (TLS) URL
// answers /v1/ping too (through node:https with the private CA file).
//
// - create/update: probe until ready or `timeoutSeconds`, then wait out the server's flush
//   interval (DURABILITY_WAIT_MS) so `up` never reports success for a publish that a crash
//   right after it would lose.
// - diff: a changed input (the publish revision, the URLs, the database) is an update; otherwise
//   the probe runs briefly (5 s) and a failure is an update as well, so a dead database shows
//   as a pending change in preview and the next `up` waits for it again.
// - delete: nothing.
//
// Erasable TypeScript, Node built-ins only (loaded by the dynamic-provider process).

import { type ApiRequest, type ApiResponse, describeAnswer, getWithCa, joinUrl, retryUntil, send, sleep } from "./http-impl.ts";
import { isUnknown, READINESS_QUERIES, sqlRequest, sqlRows } from "./protocol-impl.ts";

export interface ReadinessInputs {
    serverUrl: string;
    database: string;
    token: string;
    revision: string;
    publicUrl?: string;
    /** CA of the public URL's TLS front, relative to the project root. */
    publicCaCert?: string;
    timeoutSeconds: number;
    timeoutMs: number;
    /** CA of serverUrl's https certificate (a remote server behind a private CA), relative to the project root. */
    caCert?: string;
}

export interface ReadinessOutputs {
    serverUrl: string;
    database: string;
    revision: string;
    publicUrl?: string;
    publicCaCert?: string;
    /** {"ready":true,"configRows":n,"initEvents":n} */
    report: string;
}

/**
 * SpacetimeDB 1.2 answers a publish (and a reducer call) before it is on disk: its control
 * database (sled, where the database itself is registered) is flushed every 50 ms
 * (spacetimedb-standalone 1.2.0 control_db.rs, `flush_every_ms(Some(50))`) and the commitlog
 * (the module's rows) is flushed and fsynced every 500 ms (spacetimedb-durability 1.2.0,
 * `local::Options::default().sync_interval`); neither is observable over HTTP. Measured here: a
 * kill -9 within a millisecond of the publish's 200 lost the database (the restarted server
 * answered 404) in about 40% of rounds; 100 ms later, none of 12. So a ready database is reported
 * only after four commitlog intervals have passed since every write of this deploy (publish, then
 * settings, then this probe), which covers both flushes with room for a slow fsync.
 * test/e2e/durability.test.ts kills the server right after this create, test/e2e/backup.test.ts
 * right after `pulumi up` returns.
 */
export const DURABILITY_WAIT_MS = 2000;

/** How long the probe of a diff (every preview and up) may take. */
export const DIFF_PROBE_SECONDS = 5;

export const PING: ApiRequest = { method: "GET", route: "/v1/ping" };

const WATCHED = ["revision", "serverUrl", "database", "publicUrl", "publicCaCert"] as const;

export function readinessDiff(olds: Partial<ReadinessOutputs>, news: Partial<ReadinessInputs>): string[] {
    const changed: string[] = WATCHED.filter((k) => isUnknown(news[k]) || (news[k] ?? "") !== (olds[k] ?? ""));
    if (isUnknown(news.token)) changed.push("token");
    return changed;
}

export type Verdict = { ready: true; configRows: number; initEvents: number } | { ready: false; reason: string };

function countOf(req: ApiRequest, res: ApiResponse): number | string {
    if (res.status !== 200) return `sql ${describeAnswer(req, res)}`;
    return sqlRows(req, res).length;
}

/** What one round of answers means (the ping, then the two queries when the ping was 200). */
export function verdict(ping: ApiResponse, config?: { req: ApiRequest; res: ApiResponse }, events?: { req: ApiRequest; res: ApiResponse }): Verdict {
    if (ping.status !== 200) return { ready: false, reason: describeAnswer(PING, ping) };
    if (!config || !events) return { ready: false, reason: "no SQL answer" };
    const c = countOf(config.req, config.res);
    const e = countOf(events.req, events.res);
    if (typeof c === "string") return { ready: false, reason: c };
    if (typeof e === "string") return { ready: false, reason: e };
    if (c >= 1 && e >= 1) return { ready: true, configRows: c, initEvents: e };
    return { ready: false, reason: `module_config rows: ${c}, SYSTEM_INITIALIZED events: ${e}` };
}

export async function probe(inputs: ReadinessInputs, timeoutSeconds: number): Promise<ReadinessOutputs> {
    const timeoutMs = Math.min(inputs.timeoutMs, timeoutSeconds * 1000);
    const ready = await retryUntil(`database ${inputs.database} not ready`, timeoutSeconds, async () => {
        const ping = await send(inputs.serverUrl, PING, timeoutMs, inputs.caCert);
        if (ping.status !== 200) return { done: false, reason: describeAnswer(PING, ping) };
        const query = async (q: string) => {
            const req = sqlRequest(inputs.database, q, inputs.token);
            return { req, res: await send(inputs.serverUrl, req, timeoutMs, inputs.caCert) };
        };
        const v = verdict(ping, await query(READINESS_QUERIES.configRows), await query(READINESS_QUERIES.initEvents));
        return v.ready ? { done: true, value: v } : { done: false, reason: v.reason };
    });
    if (inputs.publicUrl) {
        const url = joinUrl(inputs.publicUrl, "/v1/ping");
        await retryUntil(`public endpoint ${inputs.publicUrl} not ready`, timeoutSeconds, async () => {
            const res = await getWithCa(url, inputs.publicCaCert, timeoutMs);
            return res.status === 200 ? { done: true, value: res } : { done: false, reason: `GET ${url} answered HTTP ${res.status}` };
        });
    }
    return {
        serverUrl: inputs.serverUrl,
        database: inputs.database,
        revision: inputs.revision,
        ...(inputs.publicUrl ? { publicUrl: inputs.publicUrl } : {}),
        ...(inputs.publicCaCert ? { publicCaCert: inputs.publicCaCert } : {}),
        report: JSON.stringify({ ready: true, configRows: ready.configRows, initEvents: ready.initEvents }),
    };
}

/** The probe of create/update: ready, and then durable (see DURABILITY_WAIT_MS). */
export async function probeDurable(inputs: ReadinessInputs, waitMs = DURABILITY_WAIT_MS): Promise<ReadinessOutputs> {
    const outs = await probe(inputs, inputs.timeoutSeconds);
    await sleep(waitMs);
    return outs;
}

export async function create(inputs: ReadinessInputs) {
    return { id: inputs.database, outs: await probeDurable(inputs) };
}

export async function diff(_id: string, olds: Partial<ReadinessOutputs>, news: ReadinessInputs) {
    if (readinessDiff(olds, news).length > 0) return { changes: true, replaces: [] };
    try {
        await probe(news, DIFF_PROBE_SECONDS);
        return { changes: false, replaces: [] };
    } catch (e) {
        if (!(e instanceof Error)) throw e;
        console.error(`readiness: ${e.message}; up will wait for it again`);
        return { changes: true, replaces: [] };
    }
}

export async function update(_id: string, _olds: ReadinessOutputs, news: ReadinessInputs) {
    return { outs: await probeDurable(news) };
}

export async function remove(): Promise<void> {}
