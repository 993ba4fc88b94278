import { EXPORT_TABLES } from "../../infra/facts";
import type { StackFacts } from "../stack";
import { batches, checkExport, ExportFileError, ExportScan, MAX_CALL_BYTES, type ScanTarget } from "./exportFile";
import { KEY } from "./exportSchema";
import { call, sql } from "./sql";

/**
 * `backup import`: an export file into the stack's database, all or nothing. The file is read
 * through every check first (exportFile.ts): a refused file is refused before the first call,
 * naming its line. Then the rows are staged in the module (import_rows writes only its
 * import_batch table) and import_finish applies them in one transaction; on any failure
 * import_abort drops the stage, so the database is left as it was (module/src/import.rs says why
 * staging rather than undoing).
 */

/** Rows per import_rows call (one reducer call each): at most this many, and at most BATCH_BYTES of body. */
export const BATCH = 200;
/** Half the server's call limit (MAX_CALL_BYTES): a batch never comes near it; one bigger row goes alone. */
const BATCH_BYTES = MAX_CALL_BYTES / 2;

async function reducer(facts: StackFacts, name: string, args: unknown[]): Promise<void> {
    const r = await call(facts.target.adminUrl, facts.target.database, facts.token, name, args);
    if (r.status === 530) throw new Error(`${name} refused (HTTP 530): ${r.body}`);
    if (r.status !== 200) throw new Error(`${name} failed (HTTP ${r.status}): ${r.body}`);
}

/** The module names a row it refuses `row <table> <key>: …` (module/src/import/rows.rs). */
export function refusedRow(message: string): { table: string; key: string } | undefined {
    const m = /refused \(HTTP 530\): row (\w+) (.+?): /.exec(message);
    return m ? { table: m[1]!, key: m[2]! } : undefined;
}

/** The line of a row, by table and key as the module prints them (the file was checked: it reads cleanly). */
function lineOf(file: string, target: ScanTarget, table: string, key: string): number | undefined {
    for (const r of new ExportScan(file, target).rows()) if (r.table === table && String(r.row[KEY[r.table]]) === key) return r.line;
    return undefined;
}

export async function importDatabase(
    facts: StackFacts,
    file: string,
    opts: { fromOtherDatabase?: boolean; log?: (l: string) => void } = {},
): Promise<{ imported: Record<string, number>; from: string; lines: number }> {
    const log = opts.log ?? (() => {});
    const target: ScanTarget = { stack: facts.target.stack, database: facts.target.database, fromOtherDatabase: opts.fromOtherDatabase === true };
    const untouched = `Nothing was written to stack ${target.stack}.`;
    let checked: ReturnType<typeof checkExport>;
    try {
        checked = checkExport(file, target);
    } catch (e) {
        if (e instanceof ExportFileError) e.message += ` ${untouched}`;
        throw e;
    }
    const { header } = checked;
    /** A refusal naming a row (module/src/import/rows.rs) → an error naming its line in the file. */
    const onLine = (e: unknown, lineOfRow: (table: string, key: string) => number | undefined): unknown => {
        const named = refusedRow((e as Error).message);
        const line = named && lineOfRow(named.table, named.key);
        return line ? new ExportFileError(file, line, `the database refused this ${named.table} row: ${(e as Error).message.replace(/^.*?\): /, "")}`, MODULE_FIX) : e;
    };
    log(`${file}: ${checked.lines} lines checked (${EXPORT_TABLES.map((t) => `${header.counts[t]} ${t}`).join(", ")})`);
    try {
        await reducer(facts, "import_begin", [JSON.stringify({ stack: header.stack, database: header.database, exportedAt: header.exportedAt, counts: header.counts })]);
    } catch (e) {
        throw new Error(`import into ${target.stack}: ${(e as Error).message}. ${untouched}`);
    }
    try {
        // Read and checked again while sending: what is staged is what was checked (same sha256).
        const scan = new ExportScan(file, target);
        for (const b of batches(scan.rows(), BATCH, BATCH_BYTES)) {
            try {
                await reducer(facts, "import_rows", [b.table, `[${b.rows.map((r) => r.json).join(",")}]`]);
            } catch (e) {
                throw onLine(e, (table, key) => b.rows.find((r) => r.table === table && String(r.row[KEY[r.table]]) === key)?.line);
            }
        }
        if (scan.reader.sha256() !== checked.sha256) throw new Error(`${file} changed while it was being imported (sha256 differs from the first read); import it again`);
        try {
            await reducer(facts, "import_finish", [JSON.stringify(header.counts)]);
        } catch (e) {
            throw onLine(e, (table, key) => lineOf(file, target, table, key));
        }
    } catch (e) {
        const aborted = await call(facts.target.adminUrl, facts.target.database, facts.token, "import_abort", []).then(
            (r) => (r.status === 200 ? undefined : `HTTP ${r.status} ${r.body}`),
            (err: unknown) => String(err),
        );
        const after = aborted
            ? `import_abort failed too (${aborted}): rows may still be staged in import_batch (never in the real tables); the next import_begin by this identity replaces them, or call import_abort`
            : "Nothing was imported: the tables are as they were (import_abort dropped the staged rows).";
        (e as Error).message = `${e instanceof ExportFileError ? "" : `import into ${target.stack}: `}${(e as Error).message} ${after}`;
        throw e;
    }
    // What the database holds now, read back (counted by the server: the rows may be many).
    const imported: Record<string, number> = {};
    for (const t of EXPORT_TABLES) imported[t] = Number((await sql(facts.target.adminUrl, facts.target.database, facts.token, `SELECT COUNT(*) AS n FROM ${t}`)).rows[0]?.[0]);
    log(`imported ${EXPORT_TABLES.map((t) => `${header.counts[t]} ${t}`).join(", ")} rows`);
    return { imported, from: `${header.stack}/${header.database} at ${header.exportedAt}`, lines: checked.lines };
}

const MODULE_FIX = "correct the row (the module applies its reducers' own rules to imported rows: module/src/validate.rs), or export the source again";
