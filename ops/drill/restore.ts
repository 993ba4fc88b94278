import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { copyTree, formatProblems, verifyTree } from "../../infra/backup/manifest";
import { FILES, find, type StoredBackup, verify } from "../../infra/backup/store";
import { standaloneStartArgs } from "../../infra/facts";
import { READINESS_QUERIES } from "../../infra/spacetimedb/protocol-impl";
import { fullDump, rowCount, sql, tokenAccepted } from "../backup/sql";
import { toolEnv } from "../env";
import { freePort } from "../ports";
import { type CliOptions, pulumi, pulumiOk } from "../pulumi";
import { readStack, type StackFacts } from "../stack";

/**
 * The monthly restore drill: verifies the newest (or the named) backup, restores a copy of it
 * somewhere the stack's own server and data never see, and runs the readiness checks (ping, the
 * module_config row, the SYSTEM_INITIALIZED event, the deployer token accepted by the restored
 * keys) and the data checks (every row of every table read). Reports the recovery point, the
 * rows checked and the seconds taken.
 *
 * Local stacks: the copy becomes the root dir of a throw-away Pulumi stack (`drill-<stack>-<id>`,
 * the source stack's config with its own ports and state dir, the same deployer token) brought up
 * with `pulumi up` — the program's own publish and readiness steps run against the restored data —
 * then destroyed and removed. Container backups: a throw-away server process of the same version
 * on a free port (no Docker provider can run here).
 */
export interface DrillReport {
    ok: boolean;
    backupId: string;
    recoveryPoint: string;
    rowsChecked: number;
    tables: Record<string, number>;
    seconds: number;
    text: string;
}

interface Checked {
    failures: string[];
    accepted: boolean;
    tables: Record<string, number>;
    rows: number;
}

async function check(url: string, db: string, token: string): Promise<Checked> {
    const accepted = await tokenAccepted(url, token);
    const config = await sql(url, db, token, READINESS_QUERIES.configRows);
    const init = await sql(url, db, token, READINESS_QUERIES.initEvents);
    const dump = await fullDump(url, db, token);
    return {
        accepted,
        tables: Object.fromEntries(Object.entries(dump).map(([t, d]) => [t, d.rows.length])),
        rows: rowCount(dump),
        failures: [
            ...(accepted ? [] : ["the deployer token is rejected by the restored keys"]),
            ...(config.rows.length === 1 ? [] : [`module_config rows: ${config.rows.length}`]),
            ...(init.rows.length >= 1 ? [] : ["no SYSTEM_INITIALIZED event"]),
        ],
    };
}

function report(stack: string, where: string, backup: StoredBackup, c: Checked, started: number): DrillReport {
    const seconds = (Date.now() - started) / 1000;
    const text = [
        `restore drill of ${stack}: ${c.failures.length ? "FAILED" : "passed"}`,
        `  backup          ${backup.id} (${backup.manifest.totals.files} files, sha256-verified twice)`,
        `  restored into   ${where}`,
        `  recovery point  ${backup.manifest.recoveryPoint}`,
        `  rows checked    ${c.rows} in ${Object.keys(c.tables).length} tables (${Object.entries(c.tables)
            .map(([t, n]) => `${t} ${n}`)
            .join(", ")})`,
        `  token           ${c.accepted ? "accepted" : "REJECTED"}`,
        `  seconds taken   ${seconds.toFixed(1)}`,
        ...c.failures.map((f) => `  failure: ${f}`),
    ].join("\n");
    return { ok: c.failures.length === 0, backupId: backup.id, recoveryPoint: backup.manifest.recoveryPoint, rowsChecked: c.rows, tables: c.tables, seconds, text };
}

/** A verified copy of the backup's files at `<tmp>/stdb`. */
function restoredCopy(backup: StoredBackup, tmp: string): string {
    const root = path.join(tmp, "stdb");
    copyTree(path.join(backup.dir, FILES), root);
    const problems = verifyTree(root, backup.manifest.files);
    if (problems.length) throw new Error(formatProblems(`drill copy ${root}`, problems));
    return root;
}

export interface DrillOptions {
    backupDir: string;
    id?: string;
    cli: CliOptions;
    log?: (l: string) => void;
}

export async function drill(facts: StackFacts, opts: DrillOptions): Promise<DrillReport> {
    return facts.target.runtime === "local" ? drillStack(facts, opts) : drillServer(facts, opts);
}

/** `pulumi config set --secret` reading the value from stdin, so the token never shows in a process list. */
function setSecret(stack: string, key: string, value: string, cli: CliOptions): void {
    const r = spawnSync("pulumi", ["config", "set", "--secret", "-s", stack, key], {
        cwd: cli.cwd,
        env: { ...process.env, ...toolEnv(cli.env ?? {}) },
        input: value,
        encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(`pulumi config set --secret ${key} -s ${stack}: ${r.stderr}`);
}

export async function drillStack(facts: StackFacts, opts: DrillOptions): Promise<DrillReport> {
    const started = Date.now();
    const log = opts.log ?? (() => {});
    const backup = find(opts.backupDir, opts.id);
    verify(backup);
    log(`backup ${backup.id} matches its manifest`);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "iu-restore-drill-"));
    const root = restoredCopy(backup, tmp);
    const source = facts.target.stack;
    const name = `drill-${source}-${backup.id.toLowerCase()}`;
    const cli = { ...opts.cli, echo: opts.cli.echo ?? ((s: string) => process.stderr.write(s)) };
    const set = (key: string, value: string) => pulumiOk(["config", "set", "--path", "-s", name, `inner-universe:${key}`, value], cli);
    try {
        await pulumiOk(["stack", "init", name], cli);
        await pulumiOk(["config", "cp", "-s", source, "--dest", name], cli);
        await set("spacetimedb.root_dir", root);
        await set("spacetimedb.port", String(await freePort()));
        await set("tls.port", String(await freePort()));
        await set("local.state_dir", path.join(tmp, "state"));
        await set("protect.data", "false");
        await set("protect.delete_data_on_destroy", "true");
        // The same identity: the restored keys must accept it, and it owns the restored database.
        setSecret(name, "inner-universe:deployer_token", facts.token, cli);
        log(`pulumi up -s ${name} (throw-away stack on the restored root ${root})`);
        await pulumiOk(["up", "-s", name, "--yes", "--skip-preview"], cli);
        const drilled = await readStack(name, cli);
        const c = await check(drilled.target.adminUrl, drilled.target.database, drilled.token);
        return report(source, `throw-away stack ${name}`, backup, c, started);
    } finally {
        const d = await pulumi(["destroy", "-s", name, "--yes", "--skip-preview"], cli);
        if (d.code === 0) await pulumi(["stack", "rm", "-s", name, "--yes"], cli);
        else log(`could not destroy ${name}; remove it with: pulumi destroy -s ${name} && pulumi stack rm -s ${name}`);
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}

async function waitPing(url: string, seconds: number, child: { exitCode: number | null }): Promise<void> {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
        try {
            const r = await fetch(`${url}/v1/ping`, { signal: AbortSignal.timeout(2000) });
            if (r.status === 200) return;
        } catch {
            /* not up yet */
        }
        if (child.exitCode !== null) throw new Error(`the drill server exited (${child.exitCode}) before ${url}/v1/ping answered`);
        if (Date.now() > deadline) throw new Error(`${url}/v1/ping did not answer within ${seconds}s`);
        await new Promise((r) => setTimeout(r, 200));
    }
}

/** Container backups: the restored copy under a throw-away spacetimedb-standalone on a free port. */
export async function drillServer(facts: StackFacts, opts: DrillOptions): Promise<DrillReport> {
    const started = Date.now();
    const backup = find(opts.backupDir, opts.id);
    verify(backup);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "iu-restore-drill-"));
    const root = restoredCopy(backup, tmp);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const args = [...standaloneStartArgs(root), "--listen-addr", `127.0.0.1:${port}`];
    const child = spawn("spacetimedb-standalone", args, { stdio: "ignore", env: { ...process.env, ...toolEnv(), SPACETIMEDB_DISABLE_DISK_LOGGING: "1" } });
    try {
        await waitPing(url, 120, child);
        return report(facts.target.stack, `throw-away server ${url}`, backup, await check(url, facts.target.database, facts.token), started);
    } finally {
        child.kill("SIGKILL");
        await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once("exit", r)));
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}
