import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { copyTree, formatProblems, verifyTree } from "../../infra/backup/manifest";
import { compareVersions, rootVersion } from "../../infra/backup/serverVersion";
import { abandonBackup, backupId, beginBackup, checkBackupDir, FILES, find, prune, type StoredBackup, sealBackup, treeBytes, verify } from "../../infra/backup/store";
import { DURABILITY_WAIT_MS } from "../../infra/spacetimedb/readiness-impl";
import type { ServerControl, StackFacts } from "../stack";
import { inProject } from "../stack";

/**
 * SpacetimeDB 1.2 buffers committed transactions and flushes them on an interval (see
 * DURABILITY_WAIT_MS in the readiness provider), and it installs no signal handler, so any stop
 * is abrupt. Waiting out that window before stopping the server keeps every write acknowledged
 * before the backup began. One constant for both.
 */
export const DURABILITY_WINDOW_MS = DURABILITY_WAIT_MS;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs one of the stack's recorded step commands from the project directory, as the engine does. */
export function runStep(facts: StackFacts, control: ServerControl, command: string): string {
    const r = spawnSync("bash", ["-c", command], { cwd: facts.projectDir, env: { ...process.env, ...control.environment }, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${command} exited ${r.status}:\n${(r.stdout + r.stderr).trim()}`);
    return r.stdout;
}

export function rootOf(facts: StackFacts, control: ServerControl): string {
    if (control.environment.IU_IN_MEMORY === "1") {
        throw new Error(`stack ${facts.target.stack} runs the server in memory (spacetimedb.in_memory): there is no root dir to copy; use \`backup export\``);
    }
    if (!facts.target.rootDir) throw new Error(`stack ${facts.target.stack}: the backup output names no rootDir`);
    return inProject(facts, facts.target.rootDir);
}

export interface CreateOptions {
    backupDir: string;
    keep: number;
    now?: () => Date;
    log?: (line: string) => void;
}

/** Stops the server (SIGINT, through its own control step), copies the root preserving hard links, starts it again. */
export async function createLocal(facts: StackFacts, control: ServerControl, opts: CreateOptions): Promise<StoredBackup> {
    const log = opts.log ?? (() => {});
    const now = opts.now ?? (() => new Date());
    const root = rootOf(facts, control);
    checkBackupDir(opts.backupDir, root);
    if (!fs.existsSync(path.join(root, "data"))) throw new Error(`${root}/data does not exist: nothing to back up`);
    const id = backupId(now());
    const partial = beginBackup(opts.backupDir, id, treeBytes(root));
    let b: StoredBackup;
    try {
        await sleep(DURABILITY_WINDOW_MS);
        log(`stopping the server (${control.stop})`);
        runStep(facts, control, control.stop);
        const recoveryPoint = now().toISOString();
        try {
            copyTree(root, path.join(partial, FILES));
        } finally {
            log(`starting the server again (${control.start})`);
            runStep(facts, control, control.start);
        }
        const serverVersion = rootVersion(path.join(partial, FILES));
        b = sealBackup(opts.backupDir, id, {
            stack: facts.target.stack,
            runtime: "local",
            database: facts.target.database,
            createdAt: now().toISOString(),
            recoveryPoint,
            method: "quiesced-copy",
            ...(serverVersion ? { serverVersion } : {}),
        });
    } catch (e) {
        abandonBackup(opts.backupDir, id);
        throw e;
    }
    for (const old of prune(opts.backupDir, opts.keep)) log(`retention (keep ${opts.keep}): removed ${old}`);
    return b;
}

export interface RestoreResult {
    backup: StoredBackup;
    /** Where the replaced root was moved (kept: nothing is deleted by a restore). */
    previousRoot?: string;
    /** false: a backup from an older server version, left for the next `up` on that version to start. */
    started: boolean;
}

/**
 * Verifies the backup (refusing a corrupt one, naming the files), stops the server, moves the
 * current root aside, copies the backup in, checks it against the manifest again, starts the server.
 */
export async function restoreLocal(
    facts: StackFacts,
    control: ServerControl,
    opts: { backupDir: string; id?: string; now?: () => Date; log?: (l: string) => void },
): Promise<RestoreResult> {
    const log = opts.log ?? (() => {});
    const root = rootOf(facts, control);
    const backup = find(opts.backupDir, opts.id);
    verify(backup);
    if (backup.manifest.stack !== facts.target.stack) log(`note: backup ${backup.id} was taken from stack ${backup.manifest.stack}`);
    log(`stopping the server (${control.stop})`);
    runStep(facts, control, control.stop);
    let previousRoot: string | undefined;
    if (fs.existsSync(root)) {
        previousRoot = `${root}.pre-restore-${backupId((opts.now ?? (() => new Date()))())}`;
        fs.renameSync(root, previousRoot);
        log(`moved the current root aside: ${previousRoot}`);
    }
    copyTree(path.join(backup.dir, FILES), root);
    const problems = verifyTree(root, backup.manifest.files);
    if (problems.length > 0) throw new Error(formatProblems(`restored root ${root}`, problems) + (previousRoot ? `\nthe previous root is kept at ${previousRoot}` : ""));
    // A backup from before an upgrade is the way back: started on the newer binary the stack last
    // ran, it would be upgraded again (one-way). It waits for its own version instead.
    const was = rootVersion(root);
    const runs = control.environment.IU_SERVER_VERSION;
    if (was && runs && compareVersions(was, runs) < 0) {
        log(
            `not starting the server: backup ${backup.id} was taken on SpacetimeDB ${was} and the stack last ran ${runs}; a start on ${runs} would upgrade it again. Set inner-universe:spacetimedb.version ${was} (with its binary) and run \`bash scripts/dev.sh\` to start it on ${was}`,
        );
        return { backup, started: false, ...(previousRoot ? { previousRoot } : {}) };
    }
    log(`starting the server (${control.start})`);
    runStep(facts, control, control.start);
    return { backup, started: true, ...(previousRoot ? { previousRoot } : {}) };
}
