/**
 * The database over its HTTP API with the deployer token (TypeScript fetch): SQL reads, reducer
 * calls, token checks, and full dumps of every user table for comparisons.
 */
import { identityOfToken } from "../../infra/lib/token";

export interface SqlResult {
    columns: string[];
    rows: unknown[][];
}

async function post(url: string, token: string, body: string, contentType: string): Promise<Response> {
    return fetch(url, { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": contentType }, body, signal: AbortSignal.timeout(60_000) });
}

const base = (adminUrl: string, database: string) => `${adminUrl.replace(/\/+$/, "")}/v1/database/${encodeURIComponent(database)}`;

export async function sql(adminUrl: string, database: string, token: string, query: string): Promise<SqlResult> {
    const res = await post(`${base(adminUrl, database)}/sql`, token, query, "text/plain");
    const text = await res.text();
    if (res.status !== 200) throw new Error(`SQL ${query} on ${database}: HTTP ${res.status} ${text.slice(0, 300)}`);
    const first = (JSON.parse(text) as { schema: { elements: { name: { some?: string } }[] }; rows: unknown[][] }[])[0];
    if (!first) throw new Error(`SQL ${query}: no result`);
    return { columns: first.schema.elements.map((e, i) => e.name.some ?? `#${i}`), rows: first.rows };
}

/** POST /call/<reducer>; resolves with the status and body (530 is a reducer's Err). */
export async function call(adminUrl: string, database: string, token: string, reducer: string, args: unknown[]): Promise<{ status: number; body: string }> {
    const res = await post(`${base(adminUrl, database)}/call/${reducer}`, token, JSON.stringify(args), "application/json");
    return { status: res.status, body: await res.text() };
}

export async function callOk(adminUrl: string, database: string, token: string, reducer: string, args: unknown[]): Promise<void> {
    const r = await call(adminUrl, database, token, reducer, args);
    if (r.status !== 200) throw new Error(`${reducer} on ${database}: HTTP ${r.status} ${r.body}`);
}

/** Whether the server accepts the token (GET /v1/identity/<id>/verify: 204 accepted, 401 other keys). */
export async function tokenAccepted(adminUrl: string, token: string): Promise<boolean> {
    const identity = identityOfToken(token);
    const res = await fetch(`${adminUrl.replace(/\/+$/, "")}/v1/identity/${identity}/verify`, {
        headers: { Authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(30_000),
    });
    await res.text();
    return res.status === 204;
}

export async function userTables(adminUrl: string, database: string, token: string): Promise<string[]> {
    const r = await sql(adminUrl, database, token, "SELECT table_name, table_type FROM st_table");
    return r.rows
        .filter((row) => row[1] === "user")
        .map((row) => String(row[0]))
        .sort();
}

export type Dump = Record<string, { columns: string[]; rows: string[] }>;

/** Every row of every user table (private ones too: the owner's token reads them), each row as canonical JSON, sorted. */
export async function fullDump(adminUrl: string, database: string, token: string): Promise<Dump> {
    const dump: Dump = {};
    for (const table of await userTables(adminUrl, database, token)) {
        const r = await sql(adminUrl, database, token, `SELECT * FROM ${table}`);
        dump[table] = { columns: r.columns, rows: r.rows.map((row) => JSON.stringify(row)).sort() };
    }
    return dump;
}

export const rowCount = (d: Dump) => Object.values(d).reduce((n, t) => n + t.rows.length, 0);

/** Tables whose rows differ between two dumps, with a sample of the difference. */
export function diffDumps(a: Dump, b: Dump): string[] {
    const out: string[] = [];
    for (const t of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
        const ra = new Set(a[t]?.rows ?? []);
        const rb = new Set(b[t]?.rows ?? []);
        const onlyA = [...ra].filter((r) => !rb.has(r));
        const onlyB = [...rb].filter((r) => !ra.has(r));
        if (onlyA.length || onlyB.length || JSON.stringify(a[t]?.columns) !== JSON.stringify(b[t]?.columns)) {
            out.push(`${t}: ${onlyA.length} row(s) only before (${onlyA.slice(0, 2).join(" ")}), ${onlyB.length} only after (${onlyB.slice(0, 2).join(" ")})`);
        }
    }
    return out;
}
