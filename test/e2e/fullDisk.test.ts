import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { find, list, verify } from "../../infra/backup/store";
import { call, callOk, type Dump, fullDump } from "../../ops/backup/sql";
import { isolatedDevConfig, makeCheckout } from "../../ops/checkout";
import { alive, freePort } from "../../ops/ports";
import { type CliResult, pulumi, run, stackOutputs } from "../../ops/pulumi";
import { faults, lostRows } from "../support/faultCounters";

/**
 * Full disks, for real: the dev stack's state dir and a backup destination on small tmpfs
 * filesystems of their own, filled with a filler file. A backup that does not fit is refused
 * before the server stops; one whose disk fills during the copy leaves no partial copy; a data
 * filesystem that fills is named by `status`, and once space returns every row written before
 * is served.
 */
const STACK = "dev";
let tmp: string;
let dataFs: string;
let destFs: string;
let checkout: string;
let env: Record<string, string>;
let adminUrl: string;
let token: string;
let database: string;
let rows: Dump;

const echo = (s: string) => process.stderr.write(s);
const ops = (...args: string[]): Promise<CliResult> => run("npx", ["tsx", "ops/main.ts", ...args], { cwd: checkout, env, echo });
const dev = (...args: string[]): Promise<CliResult> => run("bash", ["scripts/dev.sh", ...args], { cwd: checkout, env, echo });
const pid = () => Number(fs.readFileSync(path.join(dataFs, STACK, "stdb.pid"), "utf8").trim());
const free = (dir: string) => Number(fs.statfsSync(dir).bavail) * Number(fs.statfsSync(dir).bsize);
const partials = (dir: string) => fs.readdirSync(dir).filter((n) => n.endsWith(".partial"));

function mountTmpfs(dir: string, mib: number): void {
    fs.mkdirSync(dir, { recursive: true });
    const r = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${mib}M,mode=0700`, "tmpfs", dir], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`mount -t tmpfs ${dir}: ${r.stderr} (the full-disk drill needs root, as the host drill does)`);
}

/** Leaves `leave` bytes free on the filesystem of `dir` (a filler file); returns its path. */
function fill(dir: string, leave: number, name = "filler"): string {
    const file = path.join(dir, name);
    const size = Math.max(0, free(dir) - leave);
    const r = spawnSync("fallocate", ["-l", String(size), file]);
    if (r.status !== 0) fs.writeFileSync(file, Buffer.alloc(size));
    return file;
}

beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "iu-fulldisk-"));
    dataFs = path.join(tmp, "state");
    destFs = path.join(tmp, "dest");
    mountTmpfs(dataFs, 96);
    mountTmpfs(destFs, 24);
    const iso = isolatedDevConfig({ stateDir: dataFs, serverPort: await freePort(), tlsPort: await freePort() });
    checkout = makeCheckout(path.join(tmp, "checkout"), { devConfig: { ...iso, feature_flags: { enable_metrics: false } } });
    fs.mkdirSync(path.join(tmp, "backend"));
    fs.writeFileSync(path.join(tmp, "passphrase"), "e2e-fulldisk-passphrase", { mode: 0o600 });
    env = { PULUMI_BACKEND_URL: `file://${path.join(tmp, "backend")}`, PULUMI_CONFIG_PASSPHRASE_FILE: path.join(tmp, "passphrase") };
    const up = await dev("up");
    expect(up.code, up.stderr).toBe(0);
    const outputs = await stackOutputs(STACK, { cwd: checkout, env, showSecrets: true });
    token = outputs.deployerToken as string;
    database = (outputs.atlas as { database: { name: string } }).database.name;
    adminUrl = (outputs.backup as { adminUrl: string }).adminUrl;
    for (const n of ["Ann", "Bob", "Cy"]) await callOk(adminUrl, database, token, "create_entity", ["person", n, "{}"]);
    rows = await fullDump(adminUrl, database, token);
}, 600_000);

afterAll(async () => {
    try {
        if (checkout) await pulumi(["destroy", "-s", STACK, "--yes"], { cwd: checkout, env, echo });
    } finally {
        for (const d of [destFs, dataFs]) if (d) spawnSync("umount", ["-l", d]);
        fs.rmSync(tmp, { recursive: true, force: true });
        process.stdout.write(`[faults] full disk: ${JSON.stringify(faults)}\n`);
    }
});

describe("a backup destination that is full", () => {
    let older: string;

    it("takes a first backup while there is room", async () => {
        const r = await ops("backup", "create", "--stack", STACK, "--dir", destFs, "--json");
        expect(r.code, r.stderr).toBe(0);
        older = (JSON.parse(r.stdout) as { id: string }).id;
    });

    it("is refused before the server stops, naming the path and the space needed; no partial copy, older backups untouched", async () => {
        const filler = fill(destFs, 512 * 1024);
        const serving = pid();
        const r = await ops("backup", "create", "--stack", STACK, "--dir", destFs);
        faults.injected++;
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(
            new RegExp(`${destFs}: \\d+ bytes free, the backup needs \\d+ \\(the root's \\d+ bytes and 1 MiB for the manifest\\); free space there or choose another --dir`),
        );
        faults.refused++;
        expect(pid()).toBe(serving);
        expect(alive(serving)).toBe(true);
        expect(partials(destFs)).toEqual([]);
        expect(list(destFs).map((b) => b.id)).toEqual([older]);
        verify(find(destFs, older));
        fs.rmSync(filler);
    });

    it("a disk that fills during the copy: the backup fails with the path, its partial copy removed, the server started again, every row there", async () => {
        const root = path.join(dataFs, STACK, "stdb");
        const rootBytes = Number(spawnSync("du", ["-sb", root], { encoding: "utf8" }).stdout.split("\t")[0]);
        // Room for the free-space check, not for the copy once another writer takes it: the
        // backup opens its .partial after the check, then waits out the server's flush window (2 s)
        // before it copies; the other writer strikes in between.
        const first = fill(destFs, rootBytes + 2 * 1024 * 1024);
        const backup = ops("backup", "create", "--stack", STACK, "--dir", destFs);
        for (let i = 0; i < 600 && partials(destFs).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
        expect(partials(destFs)).toHaveLength(1);
        const second = fill(destFs, 64 * 1024, "filler-2");
        const r = await backup;
        faults.injected++;
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/ENOSPC|no space left on device/i);
        expect(r.stderr).toContain(destFs);
        expect(partials(destFs)).toEqual([]);
        expect(list(destFs).map((b) => b.id)).toEqual([older]);
        expect(alive(pid())).toBe(true);
        const lost = lostRows(rows, await fullDump(adminUrl, database, token));
        faults.writesChecked += Object.values(rows).reduce((n, t) => n + t.rows.length, 0);
        faults.writesLost += lost.length;
        expect(lost).toEqual([]);
        fs.rmSync(first);
        fs.rmSync(second);
    });
});

describe("a data filesystem that is full", () => {
    it("status names it; once space returns, every row written before is served and writes work again", async () => {
        const filler = fill(dataFs, 0);
        faults.injected++;
        const status = await ops("status", "--stack", STACK, "--json");
        expect(status.code).toBe(1);
        const report = JSON.parse(status.stdout) as { problems: string[] };
        expect(report.problems).toContain(`disk: only 0% free on the filesystem of ${path.join(dataFs, STACK, "stdb")}`);
        // What a write meets on a full disk (1.2 acknowledges before its commitlog is on disk):
        // recorded, not assumed; nothing written before may be lost either way.
        const attempt = await call(adminUrl, database, token, "create_entity", ["person", "OnFullDisk", "{}"]).catch((e: Error) => ({ status: 0, body: e.message }));
        process.stdout.write(`[faults] a write on a full data disk answered ${attempt.status} ${attempt.body.slice(0, 120)}\n`);
        fs.rmSync(filler);
        const up = await dev("up");
        expect(up.code, up.stderr).toBe(0);
        const now = await fullDump(adminUrl, database, token);
        const lost = lostRows(rows, now);
        // A write the server acknowledged on the full disk is a write it must keep.
        if (attempt.status === 200) {
            faults.writesChecked++;
            if (!now.entity!.rows.some((r) => r.includes('"OnFullDisk"'))) lost.push("entity OnFullDisk (acknowledged on the full disk)");
        }
        faults.writesChecked += Object.values(rows).reduce((n, t) => n + t.rows.length, 0);
        faults.writesLost += lost.length;
        expect(lost).toEqual([]);
        await callOk(adminUrl, database, token, "create_entity", ["person", "AfterSpaceReturned", "{}"]);
    });
});
