import * as fs from "node:fs";
import { EXPORT_TABLES } from "../../infra/facts";
import type { StackFacts } from "../stack";
import { type ExportHeader, type ExportTable, KEY } from "./exportSchema";

/**
 * Logical export: the module's own tables as JSON lines, read over SQL with the deployer token;
 * `backup import` (import.ts) loads such a file through the module's admin-only import reducers
 * (module/src/import.rs). This is the way from one server version or machine to another.
 *
 * File format (one JSON object per line):
 *   {"format":"inner-universe-export","version":1,"stack":…,"database":…,"exportedAt":…,"counts":{table:n}}
 *   {"table":"config","row":{"key":…,"value":…,"description":null,"updated_at":<µs>,"updated_by":"<hex>"}}
 *   …  (tables in EXPORT_TABLES order, rows by primary key)
 * Identities are 64 hex digits, timestamps microseconds since the Unix epoch, options value or null.
 */

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
    const key = KEY[table];
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
