import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildWasm } from "../../infra/lib/wasmBuild";
import { MAX_CALL_BYTES } from "../../ops/backup/exportFile";
import { BATCH } from "../../ops/backup/import";
import { exportDatabase } from "../../ops/backup/logical";
import { call, callOk, type Dump, diffDumps, fullDump } from "../../ops/backup/sql";
import { makeCheckout, setStackConfig } from "../../ops/checkout";
import { freePort, SHARED_WASM_TARGET } from "../../ops/ports";
import { type CliResult, pulumiOk, run } from "../../ops/pulumi";
import type { StackFacts } from "../../ops/stack";
import { EXPORT_FAULTS, type ExportFault } from "../support/exportFaults";
import { mintIdentity, request } from "../support/http";
import { PROJECT_ROOT_FOR_TESTS } from "../support/paths";
import { type Standalone, startStandalone } from "../support/standalone";

/**
 * Hostile export files against `npm run ops -- backup import` on real 1.2 servers: a source
 * database (on a server of its own, as the old machine would be) is filled and exported as the
 * operator's good file; the target is a fresh `runtime: remote` stack on another server, the
 * move between machines the export is for. Every hostile variant of the good file must make the
 * command exit 1 naming the file, the line and the fix, with the target's full SQL dump unchanged;
 * then the good file imports fully.
 */
const STACK = "imports";
const DB = "inner-universe";
/** Enough entities that the module sees the bad row in the third import_rows batch of entities. */
const ENTITIES = 2 * BATCH + 50;

let tmp: string;
let checkout: string;
let env: Record<string, string>;
let source: Standalone;
let target: Standalone;
let deployer: { identity: string; token: string };
let sourceFacts: StackFacts;
let targetFacts: StackFacts;
let good: string;
let goodLines: string[];
let pristine: Dump;
const refused: string[] = [];

const echo = (s: string) => process.stderr.write(s);
const cli = (args: string[]) => pulumiOk(args, { cwd: checkout, env, echo });
const importFile = (file: string, ...flags: string[]): Promise<CliResult> =>
    run("npx", ["tsx", "ops/main.ts", "backup", "import", "--stack", STACK, "--file", file, ...flags], { cwd: checkout, env, echo });
const dumpOf = (f: StackFacts) => fullDump(f.target.adminUrl, f.target.database, f.token);
/** Every HTTP reducer call runs client_connected/client_disconnected, which stamp the caller's client_connection row; that row is the server's bookkeeping of the call, not something an import writes. */
const withoutPresence = (d: Dump): Dump => Object.fromEntries(Object.entries(d).filter(([t]) => t !== "client_connection"));

async function moduleLog(f: StackFacts): Promise<string> {
    const r = await request("GET", `${f.target.adminUrl}/v1/database/${f.target.database}/logs?num_lines=200`, { token: f.token });
    return r.body;
}

beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "iu-import-faults-"));
    [source, target] = await Promise.all(["source", "target"].map(async (n) => startStandalone(path.join(tmp, n), await freePort(), { logFile: path.join(tmp, `${n}.log`) })));
    deployer = await mintIdentity(target!.url);
    checkout = makeCheckout(path.join(tmp, "checkout"));
    setStackConfig(checkout, STACK, {
        runtime: "remote",
        remote: { url: target!.url },
        module: { target_dir: SHARED_WASM_TARGET },
        local: { state_dir: path.join(tmp, "state") },
        feature_flags: { enable_metrics: false },
    });
    fs.mkdirSync(path.join(tmp, "backend"));
    fs.writeFileSync(path.join(tmp, "passphrase"), "e2e-import-faults", { mode: 0o600 });
    env = { PULUMI_BACKEND_URL: `file://${path.join(tmp, "backend")}`, PULUMI_CONFIG_PASSPHRASE_FILE: path.join(tmp, "passphrase") };
    await cli(["stack", "init", STACK]);
    await cli(["config", "set", "--secret", "-s", STACK, "inner-universe:deployer_token", deployer.token]);
    await cli(["up", "-s", STACK, "--yes", "--policy-pack", path.join(checkout, "policy", "pack")]);
    const backupTarget = { runtime: "remote" as const, stack: STACK, database: DB, backupDir: "unused" };
    targetFacts = { target: { ...backupTarget, adminUrl: target!.url }, token: deployer.token, projectDir: checkout };
    // The scheduler writes nothing between the dumps compared below: the status tick once a day.
    await callOk(target!.url, DB, deployer.token, "admin_operation", ["set_metrics_interval", '{"seconds":86400}']);

    // The source: the same module on the old machine, published by hand, with rows of every kind.
    const owner = await mintIdentity(source!.url);
    const { wasm } = buildWasm({ moduleDir: path.join(PROJECT_ROOT_FOR_TESTS, "module"), targetDir: SHARED_WASM_TARGET, timeoutMs: 20 * 60_000 });
    const put = await fetch(`${source!.url}/v1/database/${DB}`, { method: "PUT", headers: { Authorization: `Bearer ${owner.token}` }, body: fs.readFileSync(wasm) });
    expect(put.status, await put.text()).toBe(200);
    sourceFacts = { target: { ...backupTarget, adminUrl: source!.url }, token: owner.token, projectDir: checkout };
    const c = (r: string, a: unknown[]) => callOk(source!.url, DB, owner.token, r, a);
    for (let i = 1; i <= ENTITIES; i++) await c("create_entity", ["person", `p${i}`, `{"n":${i}}`]);
    await c("create_relation", [1, 3, "knows", '{"since":2020}']);
    await c("create_relation", [3, 4, "knows", "{}"]);
    await c("update_entity", [1, "p1 B", '{"n":1,"v":2}']);
    await c("delete_entity", [2, false]);
    await c("set_config", ["e2e_import", "from-the-source"]);
    good = path.join(tmp, "good.jsonl");
    await exportDatabase(sourceFacts, good);
    goodLines = fs.readFileSync(good, "utf8").trimEnd().split("\n");
    expect(JSON.parse(goodLines[0]!)).toMatchObject({ stack: STACK, database: DB, counts: { entity: ENTITIES - 1, relation: 2 } });

    // The limit the batches are sized by, measured on this server: one byte more is refused before any reducer runs.
    const body = (n: number) => JSON.stringify(["config", "x".repeat(n - '["config",""]'.length)]);
    const callOf = async (n: number) =>
        (
            await fetch(`${target!.url}/v1/database/${DB}/call/import_rows`, {
                method: "POST",
                headers: { Authorization: `Bearer ${deployer.token}`, "Content-Type": "application/json" },
                body: body(n),
            })
        ).status;
    expect(await callOf(MAX_CALL_BYTES)).toBe(530); // reached the reducer: "no import in progress"
    expect(await callOf(MAX_CALL_BYTES + 1)).toBe(413);
    pristine = await dumpOf(targetFacts);
    expect(pristine.entity!.rows).toEqual([]);
    expect(pristine.import_session!.rows).toEqual([]);
});

afterAll(async () => {
    await Promise.all([source?.stop("SIGINT"), target?.stop("SIGINT")]);
    fs.rmSync(tmp, { recursive: true, force: true });
});

/** Runs the import of a hostile file and checks the refusal: exit 1, the message, the line, the fix. */
async function refuse(name: string, file: string, line: number, message: RegExp): Promise<string> {
    const r = await importFile(file);
    expect(r.code, r.stdout).toBe(1);
    expect(r.stderr).toContain(`${file}:${line}: `);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/\. Fix: \S/);
    expect(r.stdout).toBe("");
    refused.push(name);
    return r.stderr;
}

describe("hostile export files are refused before anything is written", () => {
    it.each(EXPORT_FAULTS.map((f) => [f.name, f] as const))("%s: exit 1 naming file, line and fix; the target's full dump unchanged", async (name, fault: ExportFault) => {
        const file = path.join(tmp, "hostile.jsonl");
        fault.write(goodLines, file);
        const stderr = await refuse(name, file, fault.line(goodLines), fault.message);
        expect(stderr).toMatch(/Nothing was written to stack imports\./);
        // Not even a connection: the file was refused before the first call.
        expect(await dumpOf(targetFacts)).toEqual(pristine);
        fs.rmSync(file);
    });
});

describe("a row only the module refuses: nothing imported (all or nothing)", () => {
    const last = (table: string) => goodLines.findLastIndex((l) => l.startsWith(`{"table":"${table}"`));
    const edit = (i: number, change: (row: Record<string, unknown>) => void): string[] => {
        const r = JSON.parse(goodLines[i]!) as { row: Record<string, unknown> };
        change(r.row);
        return goodLines.map((l, j) => (j === i ? JSON.stringify(r) : l));
    };

    async function refusedByModule(name: string, lines: string[], line: number, message: RegExp): Promise<void> {
        const file = path.join(tmp, "module-refuses.jsonl");
        fs.writeFileSync(file, `${lines.join("\n")}\n`);
        const stderr = await refuse(name, file, line, message);
        expect(stderr).toMatch(/Nothing was imported: the tables are as they were \(import_abort dropped the staged rows\)/);
        const after = await dumpOf(targetFacts);
        expect(diffDumps(withoutPresence(pristine), withoutPresence(after))).toEqual([]);
        expect(withoutPresence(after)).toEqual(withoutPresence(pristine));
        expect(after.import_batch!.rows).toEqual([]);
    }

    it("entity data that is not a JSON object, in the third batch of entities: refused by import_rows, batches 1–2 dropped", async () => {
        const i = last("entity");
        const lines = edit(i, (row) => (row.data = "[1]"));
        const id = (JSON.parse(lines[i]!) as { row: { id: number } }).row.id;
        await refusedByModule(
            "entity data not a JSON object (module, batch 3)",
            lines,
            i + 1,
            new RegExp(`the database refused this entity row: row entity ${id}: data: must be a JSON object, got an array`),
        );
        // The module had staged the config batch and two entity batches when it refused the third.
        expect(await moduleLog(targetFacts)).toMatch(/import: aborted by \w+, 3 staged batches dropped/);
    });

    it("a relation to an entity the file does not hold: refused by import_finish, every staged batch dropped", async () => {
        const i = last("relation");
        const lines = edit(i, (row) => (row.target_id = 99_999));
        await refusedByModule(
            "a relation to a missing entity (module, import_finish)",
            lines,
            i + 1,
            /the database refused this relation row: row relation \d+: target_id: entity 99999 does not exist among the imported entities/,
        );
        const batches = [...(await moduleLog(targetFacts)).matchAll(/aborted by \w+, (\d+) staged batches dropped/g)].map((m) => Number(m[1]));
        expect(batches.at(-1)).toBeGreaterThan(3);
    });
});

describe("then the good file", () => {
    it("imports fully: entities, relations and state versions identical to the source's, config and events added", async () => {
        const r = await importFile(good);
        expect(r.code, r.stderr).toBe(0);
        const out = JSON.parse(r.stdout) as { imported: Record<string, number>; lines: number };
        expect(out.lines).toBe(goodLines.length);
        const a = await dumpOf(sourceFacts);
        const b = await dumpOf(targetFacts);
        for (const t of ["entity", "relation", "state_version"]) {
            expect(b[t], t).toEqual(a[t]);
            expect(out.imported[t], t).toBe(a[t]!.rows.length);
        }
        expect(b.entity!.rows).toHaveLength(ENTITIES - 1);
        expect(b.config!.rows).toEqual(expect.arrayContaining(a.config!.rows));
        const strip = (rows: string[]) => rows.map((row) => JSON.stringify((JSON.parse(row) as unknown[]).slice(1)));
        expect(strip(b.event_log!.rows)).toEqual(expect.arrayContaining(strip(a.event_log!.rows)));
        expect(b.import_batch!.rows).toEqual([]);
        expect(b.import_session!.rows).toEqual([]);
        // The hostile runs drew no ids: the next entity continues the source's sequence.
        await callOk(target!.url, DB, deployer.token, "create_entity", ["person", "next", "{}"]);
        const ids = b.entity!.rows.map((row) => (JSON.parse(row) as number[])[0]!);
        const next = (await dumpOf(targetFacts)).entity!.rows.map((row) => (JSON.parse(row) as number[])[0]!).filter((id) => !ids.includes(id));
        expect(next).toEqual([ENTITIES + 1]);
        console.log(
            `import faults: ${refused.length} of ${EXPORT_FAULTS.length + 2} hostile inputs refused, target unchanged each time; the good file imported ${goodLines.length - 1} rows`,
        );
        expect(refused).toHaveLength(EXPORT_FAULTS.length + 2);
    });

    it("a second import of it is refused (the database was imported into)", async () => {
        const r = await importFile(good);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/import_begin refused \(HTTP 530\): database: an import already ran here/);
        // And a stranger cannot end someone's import.
        const stranger = await mintIdentity(target!.url);
        expect((await call(target!.url, DB, stranger.token, "import_abort", [])).status).toBe(530);
    });
});
