import * as fs from "node:fs";
import * as path from "node:path";
import { copyTree, formatProblems, verifyTree } from "../../infra/backup/manifest";
import { backupId, FILES, list, type StoredBackup, verify } from "../../infra/backup/store";
import type { ServerControl, StackFacts } from "../stack";
import { inProject } from "../stack";
import { clogArchive, logInfo } from "./clogArchive";
import { rootOf, runStep } from "./local";
import { chooseBase, coverageGap, type IndexEntry, offsetAtTime, snapshotsAfter } from "./pitrPlan";

/**
 * Point-in-time restore of a local stack: the newest physical backup older than the point, its
 * replica's commitlog carried on by the archive's commits up to the point (`clog-archive cut`,
 * every commit checksum-verified), snapshots past the point removed; then the server replays to
 * exactly that offset. The current root and the archive are moved aside, never deleted: the
 * archive holds the history after the point, and the restored database writes a new one.
 */
export interface PointInTimeOptions {
    backupDir: string;
    /** Exactly one of the two. */
    toOffset?: number;
    /** ISO time: the latest commit archived at or before it. */
    toTime?: string;
    now?: () => Date;
    log?: (l: string) => void;
}

export interface PointInTimeResult {
    base: string;
    offset: number;
    /** When the commit at `offset` was archived. */
    archivedAt?: string;
    replica: string;
    previousRoot?: string;
    previousArchive: string;
    removedSnapshots: string[];
    /** The restored server's commitlog end after its start (offset + 1 when it replayed exactly to the point). */
    liveEnd: number;
}

const replicasOf = (files: string) => path.join(files, "data", "replicas");

/** The one replica in the backup: several databases per server is not what a stack deploys. */
function replicaOf(b: StoredBackup): string {
    const dir = replicasOf(path.join(b.dir, FILES));
    const ids = fs.existsSync(dir) ? fs.readdirSync(dir).filter((d) => fs.existsSync(path.join(dir, d, "clog"))) : [];
    if (ids.length !== 1) throw new Error(`backup ${b.id} holds ${ids.length} replica commitlogs (${ids.join(", ") || "none"}): a point-in-time restore needs exactly one`);
    return ids[0]!;
}

export function loadIndex(archive: string): IndexEntry[] {
    const file = path.join(archive, "index.jsonl");
    if (!fs.existsSync(file)) return [];
    const out: IndexEntry[] = [];
    for (const line of fs.readFileSync(file, "utf8").split("\n")) {
        try {
            out.push(JSON.parse(line) as IndexEntry);
        } catch {
            break; // a torn last line: the archiver was killed mid-append
        }
    }
    return out;
}

export function archiveBaseOf(facts: StackFacts, control: ServerControl): string {
    const dir = control.environment.IU_ARCHIVE_DIR;
    if (!dir)
        throw new Error(`stack ${facts.target.stack} runs no commitlog archiver (deployed before point-in-time recovery, or in memory): run \`bash scripts/dev.sh\` to start it`);
    return inProject(facts, dir);
}

export async function restorePointInTime(facts: StackFacts, control: ServerControl, opts: PointInTimeOptions): Promise<PointInTimeResult> {
    const log = opts.log ?? (() => {});
    const stamp = backupId((opts.now ?? (() => new Date()))());
    const root = rootOf(facts, control);
    const backups = list(opts.backupDir);
    if (backups.length === 0) throw new Error(`no base backup: ${opts.backupDir} holds none (npm run ops -- backup create --stack ${facts.target.stack})`);
    const replica = replicaOf(backups.at(-1)!);
    const archive = path.join(archiveBaseOf(facts, control), replica);
    if (!fs.existsSync(archive)) throw new Error(`no archive of replica ${replica} at ${archive}`);
    const index = loadIndex(archive);
    let offset = opts.toOffset;
    if (opts.toTime !== undefined) {
        const t = Date.parse(opts.toTime);
        offset = offsetAtTime(index, t);
        if (offset === undefined) {
            const first = index[0] ? new Date(index[0].at_ms).toISOString() : "never";
            throw new Error(`nothing was archived at or before ${opts.toTime}: the archive's first commit was archived at ${first}`);
        }
    }
    if (offset === undefined) throw new Error("a point-in-time restore needs --to-offset or --to-time");
    const entry = index.find((e) => e.min <= offset && offset < e.min + e.n);
    const candidates = backups.flatMap((b) => {
        const clog = path.join(replicasOf(path.join(b.dir, FILES)), replica, "clog");
        return fs.existsSync(clog) ? [{ id: b.id, b, end: logInfo(clog).end }] : [];
    });
    const base = chooseBase(candidates, offset);
    if (!base) {
        const oldest = [...candidates].sort((a, b) => a.end - b.end)[0];
        throw new Error(
            `no base backup is older than offset ${offset}: ${oldest ? `the oldest (${oldest.id}) already holds offsets up to ${oldest.end - 1}` : `no backup holds replica ${replica}`}`,
        );
    }
    log(`base backup ${base.id} (offsets up to ${base.end - 1}); archive ${archive} up to offset ${offset}`);
    verify(base.b);
    const info = logInfo(archive);
    // A torn or corrupt commit ends `info` early: verify below names its file instead of a gap.
    const gap = info.torn_tail ? undefined : coverageGap(base.end, info.end > 0 ? { first: info.segments[0] ?? 0, end: info.end } : undefined, offset);
    if (gap) throw new Error(`${gap} (archive ${archive})`);
    // Every archived commit up to the point, checksum-verified (a corrupt one refused, naming its segment file).
    clogArchive(["verify", "--archive", archive, "--to-offset", String(offset)]);

    const staging = `${root}.pitr-${stamp}.partial`;
    fs.rmSync(staging, { recursive: true, force: true });
    copyTree(path.join(base.b.dir, FILES), staging);
    const problems = verifyTree(staging, base.b.manifest.files);
    if (problems.length > 0) throw new Error(formatProblems(`base ${base.id} copied to ${staging}`, problems));
    const replicaDir = path.join(replicasOf(staging), replica);
    const clogDir = path.join(replicaDir, "clog");
    const cutDir = path.join(replicaDir, "clog.cut");
    try {
        clogArchive(["cut", "--archive", archive, "--base", clogDir, "--to-offset", String(offset), "--out", cutDir]);
    } catch (e) {
        fs.rmSync(staging, { recursive: true, force: true });
        throw e;
    }
    fs.rmSync(clogDir, { recursive: true });
    fs.renameSync(cutDir, clogDir);
    const snapDir = path.join(replicaDir, "snapshots");
    const removedSnapshots = fs.existsSync(snapDir) ? snapshotsAfter(fs.readdirSync(snapDir), offset) : [];
    for (const s of removedSnapshots) fs.rmSync(path.join(snapDir, s), { recursive: true });

    log(`stopping the server and its archiver (${control.stop})`);
    runStep(facts, control, control.stop);
    let previousRoot: string | undefined;
    if (fs.existsSync(root)) {
        previousRoot = `${root}.pre-restore-${stamp}`;
        fs.renameSync(root, previousRoot);
        log(`moved the current root aside: ${previousRoot}`);
    }
    fs.renameSync(staging, root);
    // The archive's commits past the point are another history now: kept aside, and the new
    // archive starts as the restored log (its index lines up to the point carried over).
    const previousArchive = `${archive}.pre-restore-${stamp}`;
    fs.renameSync(archive, previousArchive);
    fs.mkdirSync(archive, { mode: 0o700 });
    const restoredClog = path.join(replicasOf(root), replica, "clog");
    for (const f of fs.readdirSync(restoredClog)) fs.copyFileSync(path.join(restoredClog, f), path.join(archive, f));
    const kept = index.filter((e) => e.min + e.n - 1 <= offset);
    fs.writeFileSync(path.join(archive, "index.jsonl"), kept.map((e) => `${JSON.stringify(e)}\n`).join(""), { mode: 0o600 });
    log(`moved the archive aside: ${previousArchive}`);
    log(`starting the server (${control.start})`);
    runStep(facts, control, control.start);
    const liveEnd = logInfo(restoredClog).end;
    return {
        base: base.id,
        offset,
        ...(entry ? { archivedAt: new Date(entry.at_ms).toISOString() } : {}),
        replica,
        ...(previousRoot ? { previousRoot } : {}),
        previousArchive,
        removedSnapshots,
        liveEnd,
    };
}
