import { EXPORT_TABLES } from "../../infra/facts";
import { type ExportHeader, type ExportTable, firstIssue, headerSchema, KEY, lineSchema, ROW } from "./exportSchema";
import { LineReader, LineTooLong, NotUtf8 } from "./lines";

/**
 * Reading an export file for `backup import`: line by line with a byte limit per line, every
 * line checked (JSON, header, table order, each row against its table's schema, keys ascending
 * and unique, counts as the header announces, the header naming the target), and each problem
 * refused naming the file, the line and the fix. `backup import` reads the whole file this way
 * before its first call to the database, and again while it sends the rows.
 */

/** Longest line accepted. A row is far smaller (entity and relation data ≤ 64 KiB in the module). */
export const MAX_LINE_BYTES = 1024 * 1024;
/** Largest reducer call body the server accepts (axum's default limit; measured on 1.2.0: 2,097,152 accepted, one more byte refused with 413). */
export const MAX_CALL_BYTES = 2 * 1024 * 1024;

export class ExportFileError extends Error {
    constructor(
        readonly file: string,
        readonly line: number,
        readonly problem: string,
        readonly fix: string,
    ) {
        super(`${file}:${line}: ${problem}. Fix: ${fix}.`);
    }
}

export interface ScanTarget {
    stack: string;
    database: string;
    /** `--from-other-database`: accept a header naming another stack or database. */
    fromOtherDatabase: boolean;
}

export interface ExportRow {
    line: number;
    table: ExportTable;
    row: Record<string, unknown>;
    /** The row as it goes into import_rows' JSON array. */
    json: string;
    /** What the row adds to an import_rows call body (its JSON, escaped once more as a string argument, and a comma). */
    callBytes: number;
}

const EXPORT_AGAIN = "export the source database again (npm run ops -- backup export --stack SOURCE --file F.jsonl) or copy the whole file again";
/** The bytes of an import_rows call beside its rows: `["state_version","[…]"]`. */
export const CALL_OVERHEAD = Buffer.byteLength(JSON.stringify(["state_version", "[]"]));

const parse = (text: string): { ok: true; value: unknown } | { ok: false; error: string } => {
    try {
        return { ok: true, value: JSON.parse(text) };
    } catch (e) {
        return { ok: false, error: (e as Error).message };
    }
};

/** Why a header is not the target's, or undefined when it is. */
export function otherDatabase(header: Pick<ExportHeader, "stack" | "database">, target: Pick<ScanTarget, "stack" | "database">): string | undefined {
    if (header.stack === target.stack && header.database === target.database) return undefined;
    return `the export is of stack ${header.stack} (database ${header.database}), not of the target, stack ${target.stack} (database ${target.database})`;
}

export class ExportScan {
    header: ExportHeader | undefined;
    /** Lines read, the header included; set once rows() has run to its end. */
    lines = 0;
    readonly reader: LineReader;

    constructor(
        readonly file: string,
        readonly target: ScanTarget,
        readonly limits = { maxLineBytes: MAX_LINE_BYTES, maxCallBytes: MAX_CALL_BYTES },
    ) {
        this.reader = new LineReader(file, limits.maxLineBytes);
    }

    private refuse(line: number, problem: string, fix: string): never {
        throw new ExportFileError(this.file, line, problem, fix);
    }

    /** The file's rows, each checked; throws ExportFileError at the first problem. */
    *rows(): Generator<ExportRow> {
        const seen = Object.fromEntries(EXPORT_TABLES.map((t) => [t, 0])) as Record<ExportTable, number>;
        // The table of the previous row line, and its key: tables in order, keys ascending and unique.
        let previous: { table: number; key: string | number; line: number } = { table: 0, key: "", line: 1 };
        let last = 0;
        try {
            for (const { n, text, newline } of this.reader.lines()) {
                last = n;
                if (!newline) {
                    const cut = parse(text).ok ? "ends without a newline" : "is cut off mid-line (not complete JSON)";
                    this.refuse(n, `the file's last line ${cut}: the file is truncated (an export ends every line with a newline)`, EXPORT_AGAIN);
                }
                if (!text.trim()) this.refuse(n, "empty line (an export has none)", `remove the empty line, or ${EXPORT_AGAIN}`);
                const json = parse(text);
                if (!json.ok) this.refuse(n, `not JSON (${json.error})`, `the line is damaged: ${EXPORT_AGAIN}`);
                if (n === 1) {
                    this.header = this.checkHeader(json.value);
                    continue;
                }
                const row = this.checkRow(n, json.value, previous);
                seen[row.table]++;
                if (seen[row.table] > this.header!.counts[row.table])
                    this.refuse(
                        n,
                        `more ${row.table} rows than the header (line 1) announces (${this.header!.counts[row.table]})`,
                        `the header's counts and the rows disagree: ${EXPORT_AGAIN}`,
                    );
                previous = { table: EXPORT_TABLES.indexOf(row.table), key: row.row[KEY[row.table]] as string | number, line: n };
                yield row;
            }
        } catch (e) {
            if (e instanceof LineTooLong)
                this.refuse(
                    e.line,
                    `line is longer than ${e.limit} bytes (the per-line limit; a row of this module is at most a few hundred KiB)`,
                    `this is not an export of this module, or the line is damaged: ${EXPORT_AGAIN}`,
                );
            if (e instanceof NotUtf8) this.refuse(e.line, "not UTF-8 text", `the line is damaged: ${EXPORT_AGAIN}`);
            throw e;
        }
        if (!this.header) this.refuse(1, "empty file: no export header", `give the file backup export wrote (${EXPORT_AGAIN})`);
        this.lines = last;
        const short = EXPORT_TABLES.filter((t) => seen[t] !== this.header!.counts[t]).map((t) => `${t}: header ${this.header!.counts[t]}, file ${seen[t]}`);
        if (short.length)
            this.refuse(last + 1, `end of file, but the header (line 1) announces more rows (${short.join("; ")}): the file is truncated (lines missing)`, EXPORT_AGAIN);
    }

    private checkHeader(value: unknown): ExportHeader {
        const h = headerSchema.safeParse(value);
        if (!h.success) this.refuse(1, `not an inner-universe export header: ${firstIssue(h.error, value, "header.")}`, `give the file backup export wrote (${EXPORT_AGAIN})`);
        const other = otherDatabase(h.data, this.target);
        if (other && !this.target.fromOtherDatabase)
            this.refuse(
                1,
                other,
                `to load another database's rows into stack ${this.target.stack}, add --from-other-database; otherwise give the export of stack ${this.target.stack}`,
            );
        return h.data;
    }

    private checkRow(n: number, value: unknown, previous: { table: number; key: string | number; line: number }): ExportRow {
        const line = lineSchema.safeParse(value);
        if (!line.success)
            this.refuse(n, `not a row line: ${firstIssue(line.error, value)}`, `a row line is {"table": one of ${EXPORT_TABLES.join("|")}, "row": {…}}; ${EXPORT_AGAIN}`);
        const table = line.data.table;
        const idx = EXPORT_TABLES.indexOf(table);
        if (idx < previous.table)
            this.refuse(n, `${table} row after ${EXPORT_TABLES[previous.table]} rows: tables out of order (an export lists ${EXPORT_TABLES.join(", ")})`, EXPORT_AGAIN);
        const row = ROW[table].safeParse(line.data.row);
        if (!row.success)
            this.refuse(
                n,
                `wrong ${table} row: ${firstIssue(row.error, line.data.row, `${table}.`)}`,
                `correct that field (module/src/tables.rs has the types), or ${EXPORT_AGAIN}`,
            );
        const key = row.data[KEY[table]] as string | number;
        if (idx === previous.table && previous.line > 1) {
            const name = `${table} ${KEY[table]} ${JSON.stringify(key)}`;
            if (key === previous.key) this.refuse(n, `duplicate ${name} (also on line ${previous.line})`, `keep one of the two rows, or ${EXPORT_AGAIN}`);
            if (key < previous.key)
                this.refuse(n, `${name} after ${JSON.stringify(previous.key)} (line ${previous.line}): rows out of order (an export lists them by key, ascending)`, EXPORT_AGAIN);
        }
        // Under MAX_LINE_BYTES this never fires (escaping the row once more at most doubles it: 2 MiB
        // less the line's wrapper); it guards the call limit should either number move.
        const json = JSON.stringify(row.data);
        const callBytes = Buffer.byteLength(JSON.stringify(json)) - 1;
        if (callBytes + CALL_OVERHEAD > this.limits.maxCallBytes)
            this.refuse(
                n,
                `the row needs a ${callBytes + CALL_OVERHEAD}-byte reducer call; the server takes at most ${this.limits.maxCallBytes} bytes per call`,
                "shrink the row's data",
            );
        return { line: n, table, row: row.data, json, callBytes };
    }
}

/** Reads the whole file through every check; its header, line count and sha256. */
export function checkExport(file: string, target: ScanTarget, limits?: ExportScan["limits"]): { header: ExportHeader; lines: number; sha256: string } {
    const scan = new ExportScan(file, target, limits);
    for (const _ of scan.rows());
    return { header: scan.header!, lines: scan.lines, sha256: scan.reader.sha256() };
}

/** Rows grouped for import_rows: one table per batch, at most `maxRows` rows and `maxBytes` of call body. */
export function* batches(rows: Iterable<ExportRow>, maxRows: number, maxBytes: number): Generator<{ table: ExportTable; rows: ExportRow[] }> {
    let current: { table: ExportTable; rows: ExportRow[]; bytes: number } | undefined;
    for (const r of rows) {
        if (current && (current.table !== r.table || current.rows.length >= maxRows || current.bytes + r.callBytes > maxBytes)) {
            yield { table: current.table, rows: current.rows };
            current = undefined;
        }
        current ??= { table: r.table, rows: [], bytes: CALL_OVERHEAD };
        current.rows.push(r);
        current.bytes += r.callBytes;
    }
    if (current) yield { table: current.table, rows: current.rows };
}
