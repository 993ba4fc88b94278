import { z } from "zod";
import { EXPORT_TABLES } from "../../infra/facts";

/**
 * What a logical export holds, as zod schemas: the header, and one row schema per table built
 * from COLUMNS — each table's columns in order with their Rust types, exactly as
 * module/src/tables.rs declares them (test/ops/backup/exportFile.test.ts holds the two together).
 * `backup import` checks every row against these before it calls the module at all.
 */
export type ExportTable = (typeof EXPORT_TABLES)[number];

type RustType = "String" | "Option<String>" | "u64" | "Timestamp" | "Identity";

export const COLUMNS: Record<ExportTable, Record<string, RustType>> = {
    config: { key: "String", value: "String", description: "Option<String>", updated_at: "Timestamp", updated_by: "Identity" },
    entity: {
        id: "u64",
        entity_type: "String",
        name: "String",
        data: "String",
        version: "u64",
        owner: "Identity",
        created_at: "Timestamp",
        updated_at: "Timestamp",
    },
    relation: {
        id: "u64",
        source_id: "u64",
        target_id: "u64",
        relation_type: "String",
        data: "String",
        version: "u64",
        owner: "Identity",
        created_at: "Timestamp",
        updated_at: "Timestamp",
    },
    state_version: {
        version: "u64",
        target_kind: "String",
        target_id: "u64",
        change: "String",
        data: "String",
        changed_by: "Identity",
        timestamp: "Timestamp",
    },
    event_log: { id: "u64", event_type: "String", source: "Identity", timestamp: "Timestamp", data: "String" },
};

/** Each table's primary key: the export lists rows by it, ascending, each once. */
export const KEY: Record<ExportTable, string> = { config: "key", entity: "id", relation: "id", state_version: "version", event_log: "id" };

// u64 and i64 travel as JSON numbers: only the safe-integer range survives a JSON reader (z.int()).
const TYPES: Record<RustType, () => z.ZodType> = {
    String: () => z.string({ error: "expected a string" }),
    "Option<String>": () => z.string({ error: "expected a string or null" }).nullable(),
    u64: () => z.int({ error: "expected a whole number" }).min(0, { error: "expected a whole number ≥ 0" }),
    Timestamp: () => z.int({ error: "expected a whole number of microseconds since the Unix epoch" }),
    Identity: () => z.string({ error: "expected 64 hex digits" }).regex(/^(0x)?[0-9a-fA-F]{64}$/, { error: "expected 64 hex digits (an identity)" }),
};

function rowSchema(table: ExportTable): z.ZodType<Record<string, unknown>> {
    const shape = Object.fromEntries(
        Object.entries(COLUMNS[table]).map(([col, type]) => {
            // An auto-increment key (and a state version) is never 0: 0 would mean "draw a new one".
            const s = col === KEY[table] && type === "u64" ? z.int({ error: "expected a whole number" }).min(1, { error: "expected a key ≥ 1" }) : TYPES[type]();
            return [col, s];
        }),
    );
    return z.strictObject(shape) as unknown as z.ZodType<Record<string, unknown>>;
}

export const ROW: Record<ExportTable, z.ZodType<Record<string, unknown>>> = Object.fromEntries(EXPORT_TABLES.map((t) => [t, rowSchema(t)])) as Record<
    ExportTable,
    z.ZodType<Record<string, unknown>>
>;

const count = z.int().min(0);
export const headerSchema = z.strictObject({
    format: z.literal("inner-universe-export"),
    version: z.literal(1),
    stack: z.string().min(1),
    database: z.string().min(1),
    exportedAt: z.iso.datetime(),
    counts: z.strictObject(Object.fromEntries(EXPORT_TABLES.map((t) => [t, count])) as Record<ExportTable, typeof count>),
});
export type ExportHeader = z.infer<typeof headerSchema>;

export const lineSchema = z.strictObject({ table: z.enum(EXPORT_TABLES), row: z.record(z.string(), z.unknown()) });

/** The first problem zod found, as `field: what was expected (got …)`, short even for a huge value. */
export function firstIssue(error: z.ZodError, value: unknown, prefix = ""): string {
    const issue = error.issues[0]!;
    const at = issue.path.length ? `${prefix}${issue.path.join(".")}` : prefix.replace(/\.$/, "") || "value";
    let got: unknown = value;
    for (const p of issue.path) got = got && typeof got === "object" ? (got as Record<PropertyKey, unknown>)[p] : undefined;
    const json = JSON.stringify(got) ?? String(got);
    const shown =
        issue.code === "unrecognized_keys" ? ` (${issue.keys.join(", ")})` : got === undefined ? " (missing)" : ` (got ${json.length > 60 ? `${json.slice(0, 59)}…` : json})`;
    return `${at}: ${issue.code === "unrecognized_keys" ? "unknown field" : issue.message}${shown}`;
}
