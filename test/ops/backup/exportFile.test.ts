import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EXPORT_TABLES } from "../../../infra/facts";
import { batches, CALL_OVERHEAD, checkExport, ExportFileError, ExportScan, MAX_CALL_BYTES, MAX_LINE_BYTES, otherDatabase } from "../../../ops/backup/exportFile";
import { COLUMNS, type ExportTable, ROW } from "../../../ops/backup/exportSchema";
import { refusedRow } from "../../../ops/backup/import";
import { LineReader } from "../../../ops/backup/lines";
import { EXPORT_FAULTS, MB100 } from "../../support/exportFaults";
import { PROJECT_ROOT_FOR_TESTS } from "../../support/paths";

let tmp: string;
beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "iu-export-unit-"));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

const ID = "c200945aecb6af3bce86e574296ff939e80b6b92dad076f2910ed970345d1a98";
const TARGET = { stack: "dev", database: "inner-universe", fromOtherDatabase: false };

/** A good export of `entities` entities (and one row of every other table), as lines without newlines. */
function goodLines(entities = 3): string[] {
    const rows: { table: ExportTable; row: Record<string, unknown> }[] = [
        { table: "config", row: { key: "module_config", value: "{}", description: null, updated_at: 1796276774988630, updated_by: ID } },
        ...Array.from({ length: entities }, (_, i) => ({
            table: "entity" as const,
            row: { id: i + 1, entity_type: "person", name: `n${i + 1}`, data: "{}", version: 1, owner: ID, created_at: 1796276775035282 + i, updated_at: 1796276775035282 + i },
        })),
        { table: "relation", row: { id: 1, source_id: 1, target_id: 2, relation_type: "knows", data: "{}", version: 1, owner: ID, created_at: 1, updated_at: 1 } },
        { table: "state_version", row: { version: 1, target_kind: "entity", target_id: 1, change: "create", data: "{}", changed_by: ID, timestamp: 1 } },
        { table: "event_log", row: { id: 1, event_type: "SYSTEM_INITIALIZED", source: ID, timestamp: 1, data: "{}" } },
    ];
    const counts = Object.fromEntries(EXPORT_TABLES.map((t) => [t, rows.filter((r) => r.table === t).length]));
    const header = { format: "inner-universe-export", version: 1, stack: "dev", database: "inner-universe", exportedAt: "2026-12-04T10:00:00.000Z", counts };
    return [JSON.stringify(header), ...rows.map((r) => JSON.stringify(r))];
}

const write = (name: string, lines: string[], end = "\n") => {
    const f = path.join(tmp, name);
    fs.writeFileSync(f, lines.join("\n") + end);
    return f;
};

/** The ExportFileError a file gets (or undefined when it is accepted). */
function refusal(file: string, target = TARGET, limits?: ExportScan["limits"]): ExportFileError | undefined {
    try {
        checkExport(file, target, limits);
        return undefined;
    } catch (e) {
        if (e instanceof ExportFileError) return e;
        throw e;
    }
}

describe("the export's row schemas mirror module/src/tables.rs", () => {
    /** `#[table(name = t…)] pub struct S { pub col: Type, … }` → t → [col, Type][] in order. */
    function rustColumns(): Record<string, [string, string][]> {
        const src = fs.readFileSync(path.join(PROJECT_ROOT_FOR_TESTS, "module/src/tables.rs"), "utf8");
        const out: Record<string, [string, string][]> = {};
        for (const m of src.matchAll(/#\[table\(name = (\w+)[^\]]*\)\]\s*pub struct \w+ \{([^}]*)\}/g)) {
            out[m[1]!] = [...m[2]!.matchAll(/pub (\w+): ([^,\n]+),/g)].map((c) => [c[1]!, c[2]!.trim()]);
        }
        return out;
    }

    it("has each exported table's columns, in order, with their Rust types", () => {
        const rust = rustColumns();
        expect(Object.keys(rust)).toEqual(expect.arrayContaining([...EXPORT_TABLES]));
        for (const t of EXPORT_TABLES) expect(Object.entries(COLUMNS[t]), t).toEqual(rust[t]);
    });

    // (Rust type, an accepted value, refused values)
    const TYPES: [string, unknown, unknown[]][] = [
        ["String", "x", [1, null, undefined]],
        ["Option<String>", null, [1, undefined]],
        ["u64", 0, [-1, 1.5, "1", null, 2 ** 53]],
        ["Timestamp", -5, [1.5, "1796276775035282", null]],
        ["Identity", `0x${ID}`, [ID.slice(1), `${ID.slice(0, 63)}g`, 5, null]],
    ];
    it.each(TYPES)("a %s column accepts what the module stores and refuses anything else", (rustType, good, bad) => {
        const cases = EXPORT_TABLES.flatMap((t) => Object.entries(COLUMNS[t]).map(([col, ty]) => ({ t, col, ty }))).filter(
            (c) => c.ty === rustType && !(c.col === "id" || (c.t === "state_version" && c.col === "version")),
        );
        expect(cases.length).toBeGreaterThan(0);
        const base = (t: ExportTable) => JSON.parse(goodLines().find((l) => l.includes(`"table":"${t}"`))!).row as Record<string, unknown>;
        for (const { t, col } of cases) {
            expect(ROW[t].safeParse({ ...base(t), [col]: good }).success, `${t}.${col} = ${JSON.stringify(good)}`).toBe(true);
            for (const v of bad) expect(ROW[t].safeParse({ ...base(t), [col]: v }).success, `${t}.${col} = ${JSON.stringify(v)}`).toBe(false);
        }
    });

    it("refuses a key of 0, an unknown column and a missing one", () => {
        const entity = JSON.parse(goodLines()[2]!).row as Record<string, unknown>;
        expect(ROW.entity.safeParse(entity).success).toBe(true);
        expect(ROW.entity.safeParse({ ...entity, id: 0 }).success).toBe(false);
        expect(ROW.entity.safeParse({ ...entity, colour: "red" }).success).toBe(false);
        const { name: _, ...noName } = entity;
        expect(ROW.entity.safeParse(noName).success).toBe(false);
    });
});

describe("reading lines with a byte limit", () => {
    it("yields every line with its number, marks a last line without newline, and hashes the file", () => {
        const f = write("l.txt", ["a", "", "ßc"], "");
        const r = new LineReader(f, 16, 2);
        expect([...r.lines()]).toEqual([
            { n: 1, text: "a", newline: true },
            { n: 2, text: "", newline: true },
            { n: 3, text: "ßc", newline: false },
        ]);
        expect(r.sha256()).toBe(createHash("sha256").update(fs.readFileSync(f)).digest("hex"));
    });

    it("refuses a 100 MB line after reading one chunk past the limit, never the whole line", () => {
        const f = path.join(tmp, "big.jsonl");
        fs.writeFileSync(f, "first\n");
        fs.truncateSync(f, MB100); // one long line of NUL bytes, sparse on disk
        const r = new LineReader(f, MAX_LINE_BYTES);
        expect(() => [...r.lines()]).toThrow(/line 2 is longer than 1048576 bytes/);
        expect(r.bytesRead).toBeLessThanOrEqual(MAX_LINE_BYTES + 64 * 1024 + 6);
    });

    it("accepts a line of exactly the limit, refuses one byte more, and refuses bytes that are not UTF-8", () => {
        for (const chunk of [3, 7, 64 * 1024]) {
            expect([...new LineReader(write(`ok${chunk}`, ["x".repeat(10)]), 10, chunk).lines()]).toHaveLength(1);
            expect(() => [...new LineReader(write(`no${chunk}`, ["x".repeat(11)]), 10, chunk).lines()]).toThrow(/longer than 10 bytes/);
        }
        const f = path.join(tmp, "latin1");
        fs.writeFileSync(f, Buffer.from([0x61, 0x0a, 0xff, 0x0a]));
        expect(() => [...new LineReader(f, 10).lines()]).toThrow(/line 2 is not UTF-8/);
    });
});

describe("checking an export file before anything is written", () => {
    it("accepts a good export and reports its header, line count and sha256", () => {
        const lines = goodLines();
        const f = write("good.jsonl", lines);
        const r = checkExport(f, TARGET);
        expect(r.header.counts.entity).toBe(3);
        expect(r.lines).toBe(lines.length);
        expect(r.sha256).toBe(createHash("sha256").update(fs.readFileSync(f)).digest("hex"));
    });

    it.each(EXPORT_FAULTS.map((c) => [c.name, c] as const))("refuses %s, naming the file, the line and the fix", (_, c) => {
        const lines = goodLines();
        const f = path.join(tmp, "hostile.jsonl");
        c.write(lines, f);
        const e = refusal(f);
        expect(e, "accepted").toBeDefined();
        expect(e!.message).toMatch(c.message);
        expect(e!.line).toBe(c.line(lines));
        expect(e!.message.startsWith(`${f}:${c.line(lines)}: `)).toBe(true);
        expect(e!.message).toMatch(/\. Fix: \S/);
    });

    // (name, edit of the good lines, line refused, message)
    const MORE: [string, (l: string[]) => string[], number, RegExp][] = [
        ["an empty file", () => [], 1, /empty line|empty file/],
        ["another format", (l) => [JSON.stringify({ ...JSON.parse(l[0]!), format: "pg_dump" }), ...l.slice(1)], 1, /not an inner-universe export header: header\.format/],
        [
            "an unknown column",
            (l) => [...l.slice(0, 2), l[2]!.replace('"id":1,', '"id":1,"colour":"red",'), ...l.slice(3)],
            3,
            /wrong entity row: entity: unknown field \(colour\)/,
        ],
        ["an unknown table", (l) => [...l.slice(0, 2), '{"table":"admin","row":{}}', ...l.slice(2)], 3, /not a row line: table: /],
        ["tables out of order", (l) => [l[0]!, ...l.slice(2, 4), l[1]!, ...l.slice(4)], 4, /config row after entity rows: tables out of order/],
        ["keys out of order", (l) => [l[0]!, l[1]!, l[3]!, l[2]!, ...l.slice(4)], 4, /entity id 1 after 2 \(line 3\): rows out of order/],
        [
            "more rows than the header says",
            (l) => [...l.slice(0, 5), l[4]!.replace('"id":3', '"id":4'), ...l.slice(5)],
            6,
            /more entity rows than the header \(line 1\) announces \(3\)/,
        ],
        ["an empty line", (l) => [...l.slice(0, 2), "", ...l.slice(2)], 3, /empty line/],
    ];
    it.each(MORE)("refuses %s", (_, edit, line, message) => {
        const e = refusal(write("f.jsonl", edit(goodLines())));
        expect(e?.message).toMatch(message);
        expect(e?.line).toBe(line);
    });

    it("accepts another database's export only with --from-other-database", () => {
        const lines = goodLines();
        const other = write("other.jsonl", [JSON.stringify({ ...JSON.parse(lines[0]!), stack: "prod" }), ...lines.slice(1)]);
        expect(refusal(other)?.message).toMatch(/add --from-other-database/);
        expect(refusal(other, { ...TARGET, fromOtherDatabase: true })).toBeUndefined();
        expect(otherDatabase({ stack: "dev", database: "inner-universe" }, TARGET)).toBeUndefined();
        expect(otherDatabase({ stack: "dev", database: "elsewhere" }, TARGET)).toMatch(/database elsewhere/);
    });

    it("refuses a row too big for one reducer call, naming it; under the line limit no row can be (escaping at most doubles it)", () => {
        const lines = goodLines();
        const f = write("fat.jsonl", withData(lines, 2, '"'.repeat(3000)));
        const e = refusal(f, TARGET, { maxLineBytes: MAX_LINE_BYTES, maxCallBytes: 4096 });
        expect(e?.line).toBe(3);
        expect(e?.message).toMatch(/the row needs a 1\d{4}-byte reducer call; the server takes at most 4096 bytes per call/);
        // The worst row a line of MAX_LINE_BYTES can hold (data all quotes, each escaped twice on its way) still fits a call.
        const base = Buffer.byteLength(withData(lines, 2, "")[2]!);
        const worst = withData(lines, 2, '"'.repeat(Math.floor((MAX_LINE_BYTES - base) / 2)));
        expect(Buffer.byteLength(worst[2]!)).toBeGreaterThan(MAX_LINE_BYTES - 2);
        const scan = new ExportScan(write("worst.jsonl", worst), TARGET);
        const rows = [...scan.rows()];
        expect(rows[1]!.callBytes + CALL_OVERHEAD).toBeLessThanOrEqual(MAX_CALL_BYTES);
        expect(rows[1]!.callBytes).toBeGreaterThan(MAX_CALL_BYTES - 1024);
    });
});

function withData(lines: string[], i: number, data: string): string[] {
    const r = JSON.parse(lines[i]!) as { row: Record<string, unknown> };
    r.row.data = data;
    return lines.map((l, j) => (j === i ? JSON.stringify(r) : l));
}

describe("batches for import_rows", () => {
    it("keeps one table per batch, at most N rows and B bytes of call body; a bigger row goes alone", () => {
        const lines = goodLines(7);
        const big = "x".repeat(3000);
        const f = write("b.jsonl", withData(lines, 4, big));
        const rows = [...new ExportScan(f, TARGET).rows()];
        const maxBytes = 2000;
        const got = [...batches(rows, 3, maxBytes)];
        expect(got.map((b) => `${b.table}:${b.rows.map((r) => r.line).join(",")}`)).toEqual([
            "config:2",
            "entity:3,4",
            "entity:5",
            "entity:6,7,8",
            "entity:9",
            "relation:10",
            "state_version:11",
            "event_log:12",
        ]);
        for (const b of got) {
            // The real body of the call, as logical.ts sends it.
            const body = Buffer.byteLength(JSON.stringify([b.table, `[${b.rows.map((r) => r.json).join(",")}]`]));
            const accounted = CALL_OVERHEAD + b.rows.reduce((n, r) => n + r.callBytes, 0);
            expect(body).toBeLessThanOrEqual(accounted);
            if (b.rows.length > 1) expect(body).toBeLessThanOrEqual(maxBytes);
        }
        expect(MAX_CALL_BYTES).toBe(2 * 1024 * 1024);
    });

    it("finds the row the module names in its refusal", () => {
        expect(refusedRow("import_rows refused (HTTP 530): row entity 7: data: must be a JSON object, got an array")).toEqual({ table: "entity", key: "7" });
        expect(refusedRow("import_finish refused (HTTP 530): row config feature_flags: key: bad")).toEqual({ table: "config", key: "feature_flags" });
        expect(refusedRow("import_finish refused (HTTP 530): counts: entity: export has 2, import has 1")).toBeUndefined();
    });
});
