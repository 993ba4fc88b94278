import { hexIdentity, RUNNING_MODULE_QUERY, runningModule } from "../../infra/spacetimedb/protocol-impl.ts";
import { type CertFacts, certificateOf, request } from "./http";

/**
 * What the running server says about itself, asked the way the program asks (the same
 * st_module query the Database provider uses to read the running module). Every probe records
 * its own failure instead of throwing, so one dead route never hides the other facts.
 */

export interface ServerTarget {
    /** What clients use: https://DOMAIN or the local TLS front. */
    publicUrl: string;
    /** Where the deploy steps talk to the server (the loopback server locally, the front remotely). */
    adminUrl: string;
    database: string;
    token?: string;
    /** Private CA of the public front (local Caddy). */
    ca?: Buffer;
}

export interface ServerFacts {
    health: { url: string; status?: number; error?: string };
    version: { running?: string; error?: string };
    database: { identity?: string; owner?: string; error?: string };
    module: { sha256?: string; programHash?: string; error?: string };
    rows: { counts?: Record<string, number | string>; error?: string };
    tls?: CertFacts | { error: string };
}

const why = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Rows of a /sql answer's first statement as objects keyed by column name. */
export function namedRows(body: string): Record<string, unknown>[] {
    const j = JSON.parse(body) as { schema?: { elements?: { name?: { some?: string } }[] }; rows?: unknown[][] }[];
    const first = j[0];
    if (!first || !Array.isArray(first.rows)) throw new Error(`SQL answer without rows: ${body.slice(0, 200)}`);
    const names = (first.schema?.elements ?? []).map((e, i) => e.name?.some ?? `col${i}`);
    return first.rows.map((row) => Object.fromEntries(names.map((n, i) => [n, row[i]])));
}

/** The counters of the module's system_status row (numbers stay numbers; nested values are dropped). */
export function statusCounts(row: Record<string, unknown> | undefined): Record<string, number | string> {
    const out: Record<string, number | string> = {};
    for (const [k, v] of Object.entries(row ?? {})) if (typeof v === "number" || typeof v === "string") out[k] = v;
    return out;
}

export async function probeServer(t: ServerTarget): Promise<ServerFacts> {
    const db = encodeURIComponent(t.database);
    const facts: ServerFacts = { health: { url: `${t.publicUrl}/v1/ping` }, version: {}, database: {}, module: {}, rows: {} };
    const sql = (query: string) =>
        request(`${t.adminUrl}/v1/database/${db}/sql`, {
            method: "POST",
            body: query,
            ...(t.token ? { token: t.token } : {}),
            ...(t.ca && t.adminUrl.startsWith("https:") ? { ca: t.ca } : {}),
        });
    const admin = (route: string) => request(`${t.adminUrl}${route}`, t.ca && t.adminUrl.startsWith("https:") ? { ca: t.ca } : {});

    await Promise.all([
        request(facts.health.url, t.ca ? { ca: t.ca } : {}).then(
            (r) => void (facts.health.status = r.status),
            (e) => void (facts.health.error = why(e)),
        ),
        admin("/v1/health").then(
            (r) => {
                if (r.status !== 200) facts.version.error = `${t.adminUrl}/v1/health answered ${r.status}`;
                else facts.version.running = String((JSON.parse(r.body) as { version?: unknown }).version ?? "");
            },
            (e) => void (facts.version.error = why(e)),
        ),
        admin(`/v1/database/${db}`).then(
            (r) => {
                if (r.status !== 200) return void (facts.database.error = `GET /v1/database/${t.database} answered ${r.status}`);
                const j = JSON.parse(r.body) as { database_identity?: unknown; owner_identity?: unknown };
                facts.database.identity = hexIdentity(j.database_identity);
                facts.database.owner = hexIdentity(j.owner_identity);
            },
            (e) => void (facts.database.error = why(e)),
        ),
        sql(RUNNING_MODULE_QUERY).then(
            (r) => {
                if (r.status !== 200) return void (facts.module.error = `st_module query answered ${r.status}: ${r.body.slice(0, 200)}`);
                const running = runningModule(namedRows(r.body).map((row) => [row.program_hash, row.program_bytes]));
                if (!running) return void (facts.module.error = "st_module is empty");
                facts.module.sha256 = running.sha256;
                facts.module.programHash = running.programHash;
            },
            (e) => void (facts.module.error = why(e)),
        ),
        sql("SELECT * FROM system_status").then(
            (r) => {
                if (r.status !== 200) return void (facts.rows.error = `system_status query answered ${r.status}: ${r.body.slice(0, 200)}`);
                facts.rows.counts = statusCounts(namedRows(r.body)[0]);
            },
            (e) => void (facts.rows.error = why(e)),
        ),
        t.publicUrl.startsWith("https:")
            ? certificateOf(t.publicUrl, t.ca).then(
                  (c) => void (facts.tls = c),
                  (e) => void (facts.tls = { error: why(e) }),
              )
            : Promise.resolve(),
    ]);
    return facts;
}
