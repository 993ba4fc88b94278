import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importDatabase } from "../../ops/backup/import";
import { runStep } from "../../ops/backup/local";
import { call, callOk, type Dump, diffDumps, fullDump, sql, tokenAccepted } from "../../ops/backup/sql";
import { isolatedDevConfig, makeCheckout, setStackConfig } from "../../ops/checkout";
import { alive, freePort } from "../../ops/ports";
import { type CliResult, changed, lastChanges, pulumi, pulumiOk, run, stackOutputs } from "../../ops/pulumi";
import { readStack, type StackFacts, serverControl } from "../../ops/stack";

/**
 * Backup, restore, export and import of dev stacks on the real engine: the Pulumi CLI and a real
 * SpacetimeDB 1.2 server in an isolated checkout (own backend, ports, state dir), driven through
 * `npm run ops -- backup …` (ops/main.ts) exactly as an operator types it. Steps share the stacks, in order.
 */
const DEV = "dev";
const FRESH = "fresh";
let tmp: string;
let checkout: string;
let stateDir: string;
let env: Record<string, string>;
let dev: StackFacts;
let before: Dump;

const echo = (s: string) => process.stderr.write(s);
const cli = (args: string[]) => pulumiOk(args, { cwd: checkout, env, echo });
const pack = () => ["--policy-pack", path.join(checkout, "policy", "pack")];
const up = (stack: string) => cli(["up", "-s", stack, "--yes", ...pack()]);
const ops = (...args: string[]): Promise<CliResult> => run("npx", ["tsx", "ops/main.ts", ...args], { cwd: checkout, env, echo });
const backup = (...args: string[]) => ops("backup", ...args);
const facts = (stack: string) => readStack(stack, { cwd: checkout, env });
const dumpOf = (f: StackFacts) => fullDump(f.target.adminUrl, f.target.database, f.token);
const pidFile = (stack: string) => path.join(stateDir, stack, "stdb.pid");
const readPid = (stack: string) => Number(fs.readFileSync(pidFile(stack), "utf8").trim());

async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
        if (Date.now() > deadline) throw new Error("condition not met in time");
        await new Promise((r) => setTimeout(r, 100));
    }
}

/** Every file under dir (the backend's state, its backups and history). */
function walkFiles(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walkFiles(path.join(dir, e.name)) : e.isFile() ? [path.join(dir, e.name)] : []));
}

async function killServer(stack: string): Promise<void> {
    const pid = readPid(stack);
    process.kill(pid, "SIGKILL");
    await waitFor(() => !alive(pid));
}

beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "iu-backup-"));
    stateDir = path.join(tmp, "state");
    // Metrics off so the scheduler writes no rows between the dumps compared below.
    const stackConfig = async () => ({
        ...isolatedDevConfig({ stateDir, serverPort: await freePort(), tlsPort: await freePort() }),
        feature_flags: { enable_metrics: false },
    });
    checkout = makeCheckout(path.join(tmp, "checkout"), { devConfig: await stackConfig() });
    setStackConfig(checkout, FRESH, { runtime: "local", ...(await stackConfig()) });
    fs.mkdirSync(path.join(tmp, "backend"));
    fs.writeFileSync(path.join(tmp, "passphrase"), "e2e-backup-passphrase", { mode: 0o600 });
    env = { PULUMI_BACKEND_URL: `file://${path.join(tmp, "backend")}`, PULUMI_CONFIG_PASSPHRASE_FILE: path.join(tmp, "passphrase") };
    for (const s of [DEV, FRESH]) await cli(["stack", "init", s]);
});

afterAll(async () => {
    try {
        for (const s of [DEV, FRESH]) await pulumi(["destroy", "-s", s, "--yes"], { cwd: checkout, env, echo });
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
});

describe("durability after deploy", () => {
    it("kill -9 of the server right after `pulumi up` returns: after a restart the database and its module are there", async () => {
        await up(DEV);
        await killServer(DEV);
        dev = await facts(DEV);
        const control = await serverControl(DEV, { cwd: checkout, env });
        runStep(dev, control, control.start);
        const info = await fetch(`${dev.target.adminUrl}/v1/database/${dev.target.database}`);
        expect(info.status).toBe(200);
        const atlas = (await stackOutputs(DEV, { cwd: checkout, env })).atlas as { module: { sha256: string } };
        const mod = await sql(dev.target.adminUrl, dev.target.database, dev.token, "SELECT program_bytes FROM st_module");
        const { createHash } = await import("node:crypto");
        expect(
            createHash("sha256")
                .update(Buffer.from(String(mod.rows[0]![0]).replace(/^0x/, ""), "hex"))
                .digest("hex"),
        ).toBe(atlas.module.sha256);
        // The settings written right after the publish survived too.
        const flags = await sql(dev.target.adminUrl, dev.target.database, dev.token, "SELECT value FROM config WHERE key = 'feature_flags'");
        expect(JSON.stringify(flags.rows)).toContain('\\"enable_metrics\\":false');
        await up(DEV);
        expect(changed(await lastChanges(DEV, { cwd: checkout, env }))).toEqual([]);
    });
});

describe("physical backup and restore of the dev stack", () => {
    it("writes rows, backs up through `npm run backup -- create`, and the server keeps serving the same rows", async () => {
        const c = (r: string, a: unknown[]) => callOk(dev.target.adminUrl, dev.target.database, dev.token, r, a);
        // No scheduler writes between the dumps: the metrics tick once a day.
        await c("admin_operation", ["set_metrics_interval", '{"seconds":86400}']);
        for (const n of ["Ann", "Bob", "Cy", "Dee"]) await c("create_entity", ["person", n, `{"n":"${n}"}`]);
        await c("delete_entity", [2, false]);
        await c("create_relation", [1, 3, "knows", '{"since":2020}']);
        await c("create_relation", [3, 4, "knows", "{}"]);
        await c("update_entity", [1, "Ann B", '{"n":"Ann","v":2}']);
        await c("set_config", ["e2e_backup", "before-backup"]);
        before = await dumpOf(dev);
        expect(before.entity!.rows).toHaveLength(3);
        expect(before.state_version!.rows.length).toBeGreaterThanOrEqual(7);
        const r = await backup("create", "--stack", DEV, "--keep", "3");
        expect(r.code, r.stderr).toBe(0);
        const made = JSON.parse(r.stdout) as { id: string; dir: string; files: number; hardLinks: number };
        expect(made.files).toBeGreaterThan(3);
        // Never inside the root dir.
        expect(path.relative(path.resolve(checkout, dev.target.rootDir!), made.dir).startsWith("..")).toBe(true);
        expect(diffDumps(before, await dumpOf(dev))).toEqual([]);
        const listed = await backup("list", "--stack", DEV, "--json");
        expect((JSON.parse(listed.stdout) as { id: string }[]).map((b) => b.id)).toEqual([made.id]);
        const verified = await backup("verify", "--stack", DEV);
        expect(verified.code).toBe(0);
        expect(verified.stdout).toMatch(/match the manifest/);
    });

    it("the signing key is its owner's alone, live and in the backup; an open --dir is refused; state and logs hold neither key nor token", async () => {
        const mode = (f: string) => fs.statSync(f).mode & 0o777;
        const root = path.resolve(checkout, dev.target.rootDir!);
        expect(mode(root)).toBe(0o700);
        expect(mode(path.join(root, "config", "id_ecdsa"))).toBe(0o600);
        const [made] = JSON.parse((await backup("list", "--stack", DEV, "--json")).stdout) as { id: string }[];
        const backups = path.resolve(checkout, dev.target.backupDir);
        expect(mode(backups)).toBe(0o700);
        expect(mode(path.join(backups, made!.id))).toBe(0o700);
        expect(mode(path.join(backups, made!.id, "files", "config", "id_ecdsa"))).toBe(0o600);
        // A destination others can read is refused before the server is touched; nothing is written there.
        const open = path.join(tmp, "open-backups");
        fs.mkdirSync(open, { mode: 0o755 });
        fs.chmodSync(open, 0o755);
        const pidBefore = readPid(DEV);
        const refused = await backup("create", "--stack", DEV, "--dir", open);
        expect(refused.code).toBe(1);
        expect(refused.stderr).toContain(`backup dir ${open} is open to others (mode 755)`);
        expect(fs.readdirSync(open)).toEqual([]);
        expect(readPid(DEV)).toBe(pidBefore);
        // The key's body and the deployer token never appear in clear in the state or the server's log.
        const keyBody = fs
            .readFileSync(path.join(root, "config", "id_ecdsa"), "utf8")
            .split("\n")
            .filter((l) => l && !l.startsWith("-----"))
            .join("");
        expect(keyBody.length).toBeGreaterThan(40);
        const scanned = [...walkFiles(path.join(tmp, "backend")), path.join(stateDir, DEV, "stdb.log")];
        expect(scanned.length).toBeGreaterThan(1);
        for (const f of scanned) {
            const text = fs.readFileSync(f, "utf8").replace(/\\n|\s/g, "");
            expect(text.includes(keyBody), `${f} holds the private key`).toBe(false);
            expect(text.includes(dev.token), `${f} holds the deployer token`).toBe(false);
        }
    });

    it("destroy the data, restore: every row identical, the deployer token accepted, the next `up` changes nothing", async () => {
        // A write after the backup: the restore goes back to the recovery point, so it must be gone.
        await callOk(dev.target.adminUrl, dev.target.database, dev.token, "set_config", ["e2e_after", "after-backup"]);
        await killServer(DEV);
        fs.rmSync(path.resolve(checkout, dev.target.rootDir!), { recursive: true, force: true });
        const r = await backup("restore", "--stack", DEV);
        expect(r.code, r.stderr).toBe(0);
        const after = await dumpOf(dev);
        expect(diffDumps(before, after)).toEqual([]);
        expect(after).toEqual(before);
        expect(await tokenAccepted(dev.target.adminUrl, dev.token)).toBe(true);
        await up(DEV);
        expect(changed(await lastChanges(DEV, { cwd: checkout, env }))).toEqual([]);
        expect(diffDumps(before, await dumpOf(dev))).toEqual([]);
    });

    it("a backup with one byte changed is refused by verify and by restore, naming the file; the server is untouched", async () => {
        const dir = path.join(path.resolve(checkout, dev.target.backupDir), fs.readdirSync(path.resolve(checkout, dev.target.backupDir)).sort().at(-1)!);
        const manifest = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8")) as { files: { path: string; kind: string; size?: number; linkOf?: string }[] };
        const victim = manifest.files.find((f) => f.kind === "file" && !f.linkOf && (f.size ?? 0) > 16 && f.path.includes("clog"))!;
        const file = path.join(dir, "files", victim.path);
        const bytes = fs.readFileSync(file);
        bytes[8] ^= 0xff;
        fs.writeFileSync(file, bytes);
        const pid = readPid(DEV);
        for (const cmd of ["verify", "restore"]) {
            const r = await backup(cmd, "--stack", DEV);
            expect(r.code).toBe(1);
            expect(r.stderr).toContain(`${victim.path}: sha256`);
        }
        expect(readPid(DEV)).toBe(pid);
        expect(diffDumps(before, await dumpOf(dev))).toEqual([]);
        bytes[8] ^= 0xff;
        fs.writeFileSync(file, bytes);
    });

    it("the restore drill brings the latest backup up as a throw-away stack and prints recovery point, rows checked, seconds", async () => {
        const pid = readPid(DEV);
        const r = await ops("drill", "restore", "--stack", DEV);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/restore drill of dev: passed/);
        expect(r.stdout).toMatch(/restored into\s+throw-away stack drill-dev-\d{8}t\d{9}z/);
        expect(r.stdout).toMatch(/recovery point\s+\d{4}-\d\d-\d\dT/);
        expect(r.stdout).toMatch(/token\s+accepted/);
        // Every row of the backup, plus what the throw-away stack's own deploy wrote (settings sync).
        const rows = Number(/rows checked\s+(\d+)/.exec(r.stdout)?.[1]);
        expect(rows).toBeGreaterThanOrEqual(Object.values(before).reduce((n, t) => n + t.rows.length, 0));
        expect(r.stdout).toMatch(/seconds taken\s+\d+\.\d/);
        // The stack's own server and data were not touched; the throw-away stack is gone.
        expect(readPid(DEV)).toBe(pid);
        expect(diffDumps(before, await dumpOf(dev))).toEqual([]);
        expect((await cli(["stack", "ls", "--json"])).stdout).not.toContain("drill-");
        expect(fs.readdirSync(checkout).filter((f) => f.startsWith("Pulumi.drill-"))).toEqual([]);
    });
});

describe("logical export and import", () => {
    let file: string;
    let fresh: StackFacts;
    const tables = ["config", "entity", "relation", "state_version"];

    it("export from dev, import into a fresh stack: entities, relations, state versions and config identical", async () => {
        file = path.join(tmp, "dev-export.jsonl");
        const r = await backup("export", "--stack", DEV, "--file", file);
        expect(r.code, r.stderr).toBe(0);
        expect(fs.statSync(file).mode & 0o777).toBe(0o600);
        expect(fs.readFileSync(file, "utf8").split("\n")[0]).toContain('"format":"inner-universe-export"');
        await up(FRESH);
        fresh = await facts(FRESH);
        expect(fresh.token).not.toBe(dev.token);
        // The export names stack dev: loading it into another stack is said out loud.
        const unsaid = await backup("import", "--stack", FRESH, "--file", file);
        expect(unsaid.code).toBe(1);
        expect(unsaid.stderr).toMatch(/:1: the export is of stack dev .* add --from-other-database/);
        const i = await backup("import", "--stack", FRESH, "--file", file, "--from-other-database");
        expect(i.code, i.stderr).toBe(0);
        const a = await dumpOf(dev);
        const b = await dumpOf(fresh);
        for (const t of tables) expect(b[t], t).toEqual(a[t]);
        // Every exported event is there (with new ids), next to the fresh database's own.
        const strip = (rows: string[]) => rows.map((row) => JSON.stringify((JSON.parse(row) as unknown[]).slice(1)));
        expect(strip(b.event_log!.rows)).toEqual(expect.arrayContaining(strip(a.event_log!.rows)));
        // The imported database keeps working: the next entity gets the next id and version.
        await callOk(fresh.target.adminUrl, fresh.target.database, fresh.token, "create_entity", ["person", "Eve", "{}"]);
        const ids = (await sql(fresh.target.adminUrl, fresh.target.database, fresh.token, "SELECT id FROM entity")).rows.map((x) => x[0]);
        expect(ids).toEqual(expect.arrayContaining([1, 3, 4, 5]));
    });

    it("import into a non-empty database, or by a non-admin, is refused with a clear error", async () => {
        const again = await backup("import", "--stack", FRESH, "--file", file, "--from-other-database");
        expect(again.code).toBe(1);
        expect(again.stderr).toMatch(/import_begin refused \(HTTP 530\): database: an import already ran here/);
        const intoDev = await backup("import", "--stack", DEV, "--file", file);
        expect(intoDev.code).toBe(1);
        expect(intoDev.stderr).toMatch(/database: not empty \(3 entities, 2 relations/);
        const minted = (await (await fetch(`${fresh.target.adminUrl}/v1/identity`, { method: "POST" })).json()) as { token: string };
        await expect(importDatabase({ ...fresh, token: minted.token }, file, { fromOtherDatabase: true })).rejects.toThrow(/import_begin refused \(HTTP 530\): Unauthorized/);
        // The stranger cannot touch the import reducers directly either.
        expect((await call(fresh.target.adminUrl, fresh.target.database, minted.token, "import_rows", ["entity", "[]"])).status).toBe(530);
    });
});
