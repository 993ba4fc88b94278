import * as fs from "node:fs";
import { EXPORT_TABLES } from "../../infra/facts";
import type { StackFacts } from "../stack";
import { call, sql } from "./sql";

/**
 * Logical export and import: the module's own tables as JSON lines, read over SQL with the
 * deployer token and loaded through the module's admin-only import reducers
 * (module/src/import.rs). This is the way from one server version or machine to another.
 *
 * File format (one JSON object per line):
 *   {"format":"inner-universe-export","version":1,"stack":…,"database":…,"exportedAt":…,"counts":{table:n}}
 *   {"table":"config","row":{"key":…,"value":…,"description":null,"updated_at":<µs>,"updated_by":"<hex>"}}
 *   …  (tables in EXPORT_TABLES order, rows by primary key)
 * Identities are 64 hex digits, timestamps microseconds since the Unix epoch, options value or null.
 */
export type ExportTable = (typeof EXPORT_TABLES)[number];
const ORDER: Record<ExportTable, string> = { config: "key", entity: "id", relation: "id", state_version: "version", event_log: "id" };
/** Rows per import_rows call: one reducer transaction each, well under the HTTP body limits. */
export const BATCH = 200;

export interface ExportHeader {
    format: "inner-universe-export";
    version: 1;
    stack: string;
    database: string;
    exportedAt: string;
    counts: Record<ExportTable, number>;
}

interface Element {
    name: { some?: string };
    algebraic_type: Record<string, unknown>;
}

/** SATS-JSON (what 1.2's SQL endpoint answers) → the export's plain value, by the column's algebraic type. */
export function plainValue(type: Record<string, unknown>, value: unknown): unknown {
    const product = type.Product as { elements?: Element[] } | undefined;
    if (product?.elements?.length === 1 && Array.isArray(value)) {
        const tag = product.elements[0]!.name.some;
        if (tag === "__identity__") return String(value[0]).replace(/^0x/, "");
        if (tag === "__timestamp_micros_since_unix_epoch__") return value[0];
    }
    const sum = type.Sum as { variants?: Element[] } | undefined;
    const names = sum?.variants?.map((v) => v.name.some);
    if (names?.length === 2 && names[0] === "some" && names[1] === "none" && Array.isArray(value)) {
        return value[0] === 0 ? plainValue(sum!.variants![0]!.algebraic_type, value[1]) : null;
    }
    return value;
}

export function plainRows(schema: { elements: Element[] }, rows: unknown[][]): Record<string, unknown>[] {
    return rows.map((row) => Object.fromEntries(schema.elements.map((e, i) => [e.name.some ?? `#${i}`, plainValue(e.algebraic_type, row[i])])));
}

async function readTable(facts: StackFacts, table: ExportTable): Promise<Record<string, unknown>[]> {
    const url = `${facts.target.adminUrl.replace(/\/+$/, "")}/v1/database/${encodeURIComponent(facts.target.database)}/sql`;
    const res = await fetch(url, {
        method: "POST",
        headers: { Authorization: `Bearer ${facts.token}`, "Content-Type": "text/plain" },
        body: `SELECT * FROM ${table}`,
        signal: AbortSignal.timeout(120_000),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`export ${table}: HTTP ${res.status} ${text.slice(0, 300)}`);
    const first = (JSON.parse(text) as { schema: { elements: Element[] }; rows: unknown[][] }[])[0]!;
    const key = ORDER[table];
    return plainRows(first.schema, first.rows).sort((a, b) => {
        const x = a[key] as string | number;
        const y = b[key] as string | number;
        return x < y ? -1 : x > y ? 1 : 0;
    });
}

export async function exportDatabase(facts: StackFacts, file: string, now = new Date()): Promise<ExportHeader & { file: string }> {
    const tables = {} as Record<ExportTable, Record<string, unknown>[]>;
    for (const t of EXPORT_TABLES) tables[t] = await readTable(facts, t);
    const header: ExportHeader = {
        format: "inner-universe-export",
        version: 1,
        stack: facts.target.stack,
        database: facts.target.database,
        exportedAt: now.toISOString(),
        counts: Object.fromEntries(EXPORT_TABLES.map((t) => [t, tables[t].length])) as Record<ExportTable, number>,
    };
    const lines = [JSON.stringify(header), ...EXPORT_TABLES.flatMap((t) => tables[t].map((row) => JSON.stringify({ table: t, row })))];
    fs.writeFileSync(`${file}.partial`, lines.join("\n") + "\n", { mode: 0o600 });
    fs.renameSync(`${file}.partial`, file);
    return { ...header, file };
}

/** Parses and checks an export file: header first, known tables in order, counts as announced. */
export function readExport(file: string): { header: ExportHeader; rows: Record<ExportTable, Record<string, unknown>[]> } {
    const lines = fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l.trim());
    const parse = (l: string, n: number) => {
        try {
            return JSON.parse(l) as Record<string, unknown>;
        } catch (e) {
            throw new Error(`${file}:${n}: not JSON (${(e as Error).message})`);
        }
    };
    const header = parse(lines[0] ?? "", 1) as unknown as ExportHeader;
    if (header.format !== "inner-universe-export" || header.version !== 1) throw new Error(`${file}:1: not an inner-universe export header (format/version)`);
    const rows = Object.fromEntries(EXPORT_TABLES.map((t) => [t, [] as Record<string, unknown>[]])) as Record<ExportTable, Record<string, unknown>[]>;
    let last = 0;
    lines.slice(1).forEach((l, i) => {
        const line = parse(l, i + 2) as { table?: string; row?: Record<string, unknown> };
        const idx = EXPORT_TABLES.indexOf(line.table as ExportTable);
        if (idx < 0 || typeof line.row !== "object") throw new Error(`${file}:${i + 2}: expected {"table": one of ${EXPORT_TABLES.join("|")}, "row": {…}}`);
        if (idx < last) throw new Error(`${file}:${i + 2}: ${line.table} after ${EXPORT_TABLES[last]}: rows out of order`);
        last = idx;
        rows[line.table as ExportTable].push(line.row);
    });
    for (const t of EXPORT_TABLES) {
        if ((header.counts?.[t] ?? -1) !== rows[t].length) throw new Error(`${file}: header says ${header.counts?.[t]} ${t} rows, the file has ${rows[t].length} (truncated?)`);
    }
    return { header, rows };
}

async function reducer(facts: StackFacts, name: string, args: unknown[]): Promise<void> {
    const r = await call(facts.target.adminUrl, facts.target.database, facts.token, name, args);
    if (r.status !== 200) throw new Error(`import into ${facts.target.stack}: ${name} refused (HTTP ${r.status}): ${r.body}`);
}

export async function importDatabase(facts: StackFacts, file: string, log: (l: string) => void = () => {}): Promise<{ imported: Record<string, number>; from: string }> {
    const { header, rows } = readExport(file);
    await reducer(facts, "import_begin", [JSON.stringify({ stack: header.stack, database: header.database, exportedAt: header.exportedAt, counts: header.counts })]);
    for (const t of EXPORT_TABLES) {
        for (let i = 0; i < rows[t].length; i += BATCH) await reducer(facts, "import_rows", [t, JSON.stringify(rows[t].slice(i, i + BATCH))]);
        log(`imported ${rows[t].length} ${t} rows`);
    }
    await reducer(facts, "import_finish", [JSON.stringify(header.counts)]);
    // What the database holds now, read back.
    const imported: Record<string, number> = {};
    for (const t of EXPORT_TABLES) imported[t] = (await sql(facts.target.adminUrl, facts.target.database, facts.token, `SELECT * FROM ${t}`)).rows.length;
    return { imported, from: `${header.stack}/${header.database} at ${header.exportedAt}` };
}
