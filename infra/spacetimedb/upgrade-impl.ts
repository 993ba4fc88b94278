// Dynamic provider of `ServerUpgrade` (infra/spacetimedb/upgrade.ts): the gate a change of
// spacetimedb.version passes on a local server root. SpacetimeDB upgrades are one-way (a start
// rewrites data/metadata.toml to the server's version and an older server then refuses the root),
// so the only way back is a copy taken before the new binary touches the root.
//
// - check: reads the root's metadata.toml. A target older than it is refused here, in preview,
//   before anything stops. `plan` says what the `up` will do ("server 1.1.1 → 1.2.0: backup first,
//   one-way, rollback = restore"), so the preview shows it as a changed input.
// - create/update, when the root is on an older version: what the old server serves (the running
//   module's hash, the row count of every table an anonymous client reads) → stop → a physical
//   backup through the backup path (infra/backup) → start on the new binary (the server step's own
//   control script and environment, so that step then finds it running) → the same observation,
//   compared. Any failure: the new server stopped, its root kept aside, the backup copied back,
//   the old binary started, and the `up` fails saying so.
// - diff: a changed plan or version; delete: nothing (the root belongs to the server step).
//
// Erasable TypeScript, Node built-ins only (loaded by the dynamic-provider process).

import * as fs from "node:fs";
import * as path from "node:path";
import { copyTree, formatProblems, verifyTree } from "../backup/manifest.ts";
import { compareVersions, rootVersion } from "../backup/serverVersion.ts";
import { abandonBackup, backupId, beginBackup, FILES, sealBackup, treeBytes } from "../backup/store.ts";
import { run } from "../providers/shell-impl.ts";
import { causeOf, retryUntil, send } from "./http-impl.ts";
import { mintRequest, parseMinted, RUNNING_MODULE_QUERY, sqlRequest, sqlRows } from "./protocol-impl.ts";

export interface UpgradeInputs {
    stack: string;
    database: string;
    /** Project-relative, like every path in the state. */
    rootDir: string;
    backupDir: string;
    version: string;
    serverUrl: string;
    /** The server step's control commands and environment (the new binary and version). */
    start: string;
    stop: string;
    environment: Record<string, string>;
    readyTimeoutSeconds: number;
    timeoutMs: number;
    /** Set by check: what the next `up` does to the server. */
    plan?: string;
}

export interface UpgradeRecord {
    from: string;
    to: string;
    /** The backup taken before the switch (npm run ops -- backup verify --id …). */
    backupId: string;
    at: string;
}

export type UpgradeOutputs = UpgradeInputs & { last?: UpgradeRecord };

export function planOf(onDisk: string | undefined, target: string): string {
    if (!onDisk || onDisk === target) return `server ${target}`;
    if (compareVersions(onDisk, target) < 0) return `server ${onDisk} → ${target}: backup first, one-way, rollback = restore`;
    return `server ${onDisk} → ${target}: refused (a downgrade)`;
}

export function downgradeMessage(root: string, onDisk: string, target: string): string {
    return [
        `refusing a downgrade: the server root ${root} was last run by SpacetimeDB ${onDisk} and spacetimedb.version is ${target}.`,
        `SpacetimeDB upgrades are one-way (data/metadata.toml): ${target} cannot open this root, and nothing was stopped.`,
        `To run ${target} again, restore a backup taken before the upgrade: npm run ops -- backup list --stack STACK, then backup restore --stack STACK --id ID`,
    ].join("\n");
}

export async function check(_olds: UpgradeOutputs | undefined, news: UpgradeInputs) {
    const onDisk = rootVersion(news.rootDir);
    if (onDisk && compareVersions(onDisk, news.version) > 0) {
        return { inputs: news, failures: [{ property: "version", reason: downgradeMessage(news.rootDir, onDisk, news.version) }] };
    }
    return { inputs: { ...news, plan: planOf(onDisk, news.version) } };
}

export async function diff(_id: string, olds: UpgradeOutputs, news: UpgradeInputs) {
    const changed = olds.plan !== news.plan || olds.version !== news.version;
    return { changes: changed || JSON.stringify(olds.environment) !== JSON.stringify(news.environment) };
}

export async function create(inputs: UpgradeInputs) {
    return { id: `upgrade-${inputs.stack}`, outs: await gate(inputs, undefined) };
}

export async function update(_id: string, olds: UpgradeOutputs, news: UpgradeInputs) {
    return { outs: await gate(news, olds.last) };
}

export async function remove() {}

/** What a server serves, as an anonymous client sees it: the running module and every public table's row count. */
export interface Observation {
    programHash: string;
    rows: Record<string, number>;
}

export async function observe(i: Pick<UpgradeInputs, "serverUrl" | "database" | "timeoutMs">): Promise<Observation> {
    const mint = mintRequest();
    const { token } = parseMinted(await send(i.serverUrl, mint, i.timeoutMs));
    const query = async (q: string) => {
        const req = sqlRequest(i.database, q, token);
        return sqlRows(req, await send(i.serverUrl, req, i.timeoutMs));
    };
    const programHash = String((await query(RUNNING_MODULE_QUERY))[0]?.[0] ?? "");
    const tables = (await query("SELECT table_name, table_type, table_access FROM st_table"))
        .filter((r) => r[1] === "user" && r[2] === "public")
        .map((r) => String(r[0]))
        .sort();
    const rows: Record<string, number> = {};
    for (const t of tables) rows[t] = Number((await query(`SELECT COUNT(*) AS n FROM ${t}`))[0]?.[0]);
    return { programHash, rows };
}

/** `observe`, retried until the database answers or `readyTimeoutSeconds` pass (a server still replaying its log). */
export const observeUntilReady = (i: Pick<UpgradeInputs, "serverUrl" | "database" | "timeoutMs" | "readyTimeoutSeconds">) =>
    retryUntil(`the database ${i.database} at ${i.serverUrl}`, i.readyTimeoutSeconds, async () => {
        try {
            return { done: true, value: await observe(i) };
        } catch (e) {
            return { done: false, reason: causeOf(e) };
        }
    });

/** Why `after` is not the server `before` was: another module, or a table with fewer rows (new rows are writes, not loss). */
export function compareObservations(before: Observation, after: Observation): string[] {
    const out: string[] = [];
    if (before.programHash !== after.programHash) out.push(`the running module changed: ${before.programHash} before, ${after.programHash} after`);
    for (const [t, n] of Object.entries(before.rows)) {
        const m = after.rows[t];
        if (m === undefined) out.push(`table ${t} is gone (${n} rows before)`);
        else if (m < n) out.push(`table ${t}: ${n} rows before, ${m} after`);
    }
    return out;
}

/** The version the server says it runs (GET /v1/health, 1.2+); undefined when it does not say. */
export async function reportedVersion(i: Pick<UpgradeInputs, "serverUrl" | "timeoutMs">, caFile?: string): Promise<string | undefined> {
    const res = await send(i.serverUrl, { method: "GET", route: "/v1/health" }, i.timeoutMs, caFile).catch(() => undefined);
    if (res?.status !== 200) return undefined;
    try {
        const v = (JSON.parse(res.body) as { version?: unknown }).version;
        return typeof v === "string" ? v : undefined;
    } catch {
        return undefined;
    }
}

async function step(command: string, i: UpgradeInputs, env: Record<string, string>): Promise<string> {
    const r = await run(command, { environment: env, timeoutSeconds: i.readyTimeoutSeconds + 60 });
    if (r.code !== 0) throw new Error(`${command} exited ${r.code}: ${stepReason(r.stderr || r.stdout)}`);
    return r.stdout;
}

/** The line of a failed ctl step that says why (the scripts' own words), not the server log tail it prints after it. */
export function stepReason(output: string): string {
    const lines = output
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean);
    return lines.find((l) => /did not answer within|exited before|not found|is not SpacetimeDB|refusing/.test(l)) ?? lines.at(-1) ?? "no output";
}

/** The binary the running server was started with (first word of its fingerprint), if it is still that version. */
async function previousBinary(i: UpgradeInputs, version: string): Promise<string | undefined> {
    const file = i.environment.IU_FINGERPRINT_FILE;
    if (!file || !fs.existsSync(file)) return undefined;
    const bin = fs.readFileSync(file, "utf8").trim().split(" ")[0];
    if (!bin) return undefined;
    const r = await run(`${JSON.stringify(bin)} --version`, { timeoutSeconds: 30 });
    return r.code === 0 && r.stdout.includes(`tool version ${version};`) ? bin : undefined;
}

async function gate(i: UpgradeInputs, last: UpgradeRecord | undefined): Promise<UpgradeOutputs> {
    const root = i.rootDir;
    const from = rootVersion(root);
    const outs = (record: UpgradeRecord | undefined): UpgradeOutputs => ({ ...i, plan: planOf(i.version, i.version), ...(record ? { last: record } : {}) });
    if (!from || from === i.version) return outs(last);
    if (compareVersions(from, i.version) > 0) throw new Error(downgradeMessage(root, from, i.version));

    const oldBin = await previousBinary(i, from);
    const oldEnv = oldBin ? { ...i.environment, IU_SERVER_BIN: oldBin, IU_SERVER_VERSION: from } : undefined;
    const before = await observe(i).catch(() => undefined);
    await step(i.stop, i, i.environment);

    const at = new Date();
    const id = backupId(at);
    const partial = beginBackup(i.backupDir, id, treeBytes(root));
    try {
        copyTree(root, path.join(partial, FILES));
        sealBackup(i.backupDir, id, {
            stack: i.stack,
            runtime: "local",
            database: i.database,
            createdAt: new Date().toISOString(),
            recoveryPoint: at.toISOString(),
            method: "quiesced-copy",
            serverVersion: from,
            reason: `before the upgrade ${from} → ${i.version}`,
        });
    } catch (e) {
        abandonBackup(i.backupDir, id);
        const back = oldEnv
            ? await step(i.start, i, oldEnv).then(
                  () => `${from} restarted`,
                  (r) => `and ${from} did not restart: ${causeOf(r)}`,
              )
            : "the server is stopped";
        throw new Error(`upgrade ${from} → ${i.version} not started: the pre-upgrade backup failed (${causeOf(e)}); the root is untouched, ${back}`);
    }

    try {
        await step(i.start, i, i.environment);
        const after = await observeUntilReady(i);
        const problems = before ? compareObservations(before, after) : [];
        const reported = await reportedVersion(i);
        if (reported && reported !== i.version) problems.push(`the server reports version ${reported}, not ${i.version}`);
        if (problems.length > 0) throw new Error(problems.join("; "));
    } catch (e) {
        throw new Error(`upgrade ${from} → ${i.version} failed after the switch: ${causeOf(e)}\n${await rollback(i, { from, id, oldEnv })}`);
    }
    return outs({ from, to: i.version, backupId: id, at: at.toISOString() });
}

/** The way back: the new server stopped, its root kept aside (nothing is deleted), the backup copied in and checked, the old binary started. */
async function rollback(i: UpgradeInputs, r: { from: string; id: string; oldEnv: Record<string, string> | undefined }): Promise<string> {
    const said: string[] = [];
    try {
        await step(i.stop, i, i.environment);
        const aside = `${i.rootDir}.failed-upgrade-${r.id}`;
        fs.renameSync(i.rootDir, aside);
        said.push(`the upgraded root is kept at ${aside}`);
        const backup = path.join(i.backupDir, r.id);
        copyTree(path.join(backup, FILES), i.rootDir);
        const manifest = JSON.parse(fs.readFileSync(path.join(backup, "manifest.json"), "utf8")) as { files: Parameters<typeof verifyTree>[1] };
        const problems = verifyTree(i.rootDir, manifest.files);
        if (problems.length > 0) throw new Error(formatProblems(`restored root ${i.rootDir}`, problems));
        said.push(`the pre-upgrade backup ${r.id} is restored`);
        if (!r.oldEnv) {
            said.push(`the server is stopped: the ${r.from} binary it ran is not known; set spacetimedb.version ${r.from} with its binary and run \`bash scripts/dev.sh\``);
        } else {
            await step(i.start, i, r.oldEnv);
            await observeUntilReady(i);
            said.push(`SpacetimeDB ${r.from} (${r.oldEnv.IU_SERVER_BIN}) is serving it again`);
        }
        return `Rolled back: ${said.join("; ")}.`;
    } catch (e) {
        return `Rollback incomplete (${said.join("; ") || "nothing done"}): ${causeOf(e)}. The backup ${path.join(i.backupDir, r.id)} holds the pre-upgrade root (npm run ops -- backup restore --id ${r.id}).`;
    }
}
