import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort } from "../workspace";
import { copyTree, formatProblems, verifyTree } from "./manifest";
import { fullDump, rowCount, sql, tokenAccepted } from "./sql";
import { cliOptions, type StackFacts, serverControl } from "./stack";
import { FILES, find, verify } from "./store";

export interface DrillReport {
    ok: boolean;
    backupId: string;
    recoveryPoint: string;
    rowsChecked: number;
    tables: Record<string, number>;
    seconds: number;
    text: string;
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

/**
 * The monthly restore drill: verifies the newest (or the named) backup, restores it into a
 * throw-away server (same binary as the stack's, own port, a temporary root dir — the stack's
 * own server and data are not touched), and runs the readiness checks (ping, module_config row,
 * SYSTEM_INITIALIZED event, the deployer token still accepted) and the data checks (every row of
 * every table readable). Reports the recovery point, the rows checked and the seconds taken.
 */
export async function drill(facts: StackFacts, opts: { backupDir: string; id?: string; log?: (l: string) => void }): Promise<DrillReport> {
    const started = Date.now();
    const log = opts.log ?? (() => {});
    const backup = find(opts.backupDir, opts.id);
    verify(backup);
    log(`backup ${backup.id} matches its manifest`);
    const control = facts.target.runtime === "local" ? await serverControl(facts.target.stack, cliOptions(facts.projectDir)) : undefined;
    const bin = control?.environment.IU_SERVER_BIN ?? "spacetimedb-standalone";
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "iu-drill-"));
    const root = path.join(tmp, "stdb");
    copyTree(path.join(backup.dir, FILES), root);
    const problems = verifyTree(root, backup.manifest.files);
    if (problems.length) throw new Error(formatProblems(`drill copy ${root}`, problems));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const args = [
        "start",
        "--data-dir",
        `${root}/data`,
        "--jwt-pub-key-path",
        `${root}/config/id_ecdsa.pub`,
        "--jwt-priv-key-path",
        `${root}/config/id_ecdsa`,
        "--listen-addr",
        `127.0.0.1:${port}`,
    ];
    const child = spawn(bin, args, { stdio: ["ignore", "ignore", "ignore"], env: { ...process.env, SPACETIMEDB_DISABLE_DISK_LOGGING: "1" } });
    try {
        await waitPing(url, 120, child);
        const db = facts.target.database;
        const accepted = await tokenAccepted(url, facts.token);
        const config = await sql(url, db, facts.token, "SELECT * FROM config WHERE key = 'module_config'");
        const init = await sql(url, db, facts.token, "SELECT * FROM event_log WHERE event_type = 'SYSTEM_INITIALIZED'");
        const dump = await fullDump(url, db, facts.token);
        const tables = Object.fromEntries(Object.entries(dump).map(([t, d]) => [t, d.rows.length]));
        const failures = [
            ...(accepted ? [] : ["the deployer token is rejected by the restored keys"]),
            ...(config.rows.length === 1 ? [] : [`module_config rows: ${config.rows.length}`]),
            ...(init.rows.length >= 1 ? [] : ["no SYSTEM_INITIALIZED event"]),
        ];
        const seconds = (Date.now() - started) / 1000;
        const rowsChecked = rowCount(dump);
        const text = [
            `restore drill of ${facts.target.stack}: ${failures.length ? "FAILED" : "passed"}`,
            `  backup          ${backup.id} (${backup.manifest.totals.files} files, sha256-verified twice)`,
            `  recovery point  ${backup.manifest.recoveryPoint}`,
            `  rows checked    ${rowsChecked} in ${Object.keys(tables).length} tables (${Object.entries(tables)
                .map(([t, n]) => `${t} ${n}`)
                .join(", ")})`,
            `  token           ${accepted ? "accepted" : "REJECTED"}`,
            `  seconds taken   ${seconds.toFixed(1)}`,
            ...failures.map((f) => `  failure: ${f}`),
        ].join("\n");
        return { ok: failures.length === 0, backupId: backup.id, recoveryPoint: backup.manifest.recoveryPoint, rowsChecked, tables, seconds, text };
    } finally {
        child.kill("SIGKILL");
        await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once("exit", r)));
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}
