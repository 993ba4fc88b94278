import * as fs from "node:fs";
import * as path from "node:path";
import { daemonFiles } from "../../infra/lib/localLayout";
import { logInfo } from "../backup/clogArchive";
import { alive } from "../ports";

/**
 * The commitlog archive beside a local server (point-in-time recovery): whether the archiver runs,
 * and per replica how far the archive is behind the live log, in commits and in seconds. The seconds
 * are the time since the archiver last found nothing left to copy: every commit older than that is
 * archived, so it bounds what a point-in-time restore would miss now.
 */
export interface ReplicaLag {
    replica: string;
    liveEnd?: number;
    archivedEnd: number;
    commitsBehind?: number;
    /** null: the archiver has not caught up with this replica yet (or never ran). */
    secondsBehind: number | null;
    error?: string;
}

export interface ArchiveFacts {
    dir: string;
    pidFile: string;
    running: boolean;
    replicas: ReplicaLag[];
}

/** Above this lag the archive is a problem: the archiver passes every 200 ms. */
export const ARCHIVE_MAX_LAG_S = 10;

interface ArchiverStatus {
    archived_end: number;
    caught_up_at_ms: number | null;
}

export function archiveFacts(rootDir: string, archiveDir: string, now: () => number = Date.now): ArchiveFacts {
    const { pid: pidFile } = daemonFiles(archiveDir);
    const text = fs.existsSync(pidFile) ? fs.readFileSync(pidFile, "utf8").trim() : "";
    const running = /^\d+$/.test(text) && alive(Number(text));
    const replicasDir = path.join(rootDir, "data", "replicas");
    const ids = fs.existsSync(replicasDir) ? fs.readdirSync(replicasDir).filter((d) => fs.existsSync(path.join(replicasDir, d, "clog"))) : [];
    const replicas = ids.map((replica): ReplicaLag => {
        const statusFile = path.join(archiveDir, replica, "archiver.json");
        const s: ArchiverStatus = fs.existsSync(statusFile) ? (JSON.parse(fs.readFileSync(statusFile, "utf8")) as ArchiverStatus) : { archived_end: 0, caught_up_at_ms: null };
        try {
            const liveEnd = logInfo(path.join(replicasDir, replica, "clog")).end;
            const commitsBehind = Math.max(0, liveEnd - s.archived_end);
            const secondsBehind = commitsBehind === 0 ? 0 : s.caught_up_at_ms === null ? null : Math.round((now() - s.caught_up_at_ms) / 100) / 10;
            return { replica, liveEnd, archivedEnd: s.archived_end, commitsBehind, secondsBehind };
        } catch (e) {
            return { replica, archivedEnd: s.archived_end, secondsBehind: null, error: (e as Error).message };
        }
    });
    return { dir: archiveDir, pidFile, running, replicas };
}

/** What is wrong with the archive, each naming the fix. */
export function archiveProblems(a: ArchiveFacts): string[] {
    const out: string[] = [];
    if (!a.running)
        out.push(
            `archive: the commitlog archiver is not running (${a.pidFile}); nothing written from now on can be restored to a point in time: \`bash scripts/dev.sh\` starts it`,
        );
    for (const r of a.replicas) {
        if (r.error) out.push(`archive: replica ${r.replica}: ${r.error}`);
        else if (r.secondsBehind === null) out.push(`archive: replica ${r.replica} is ${r.commitsBehind} commits behind and has never caught up (${a.dir})`);
        else if (r.secondsBehind > ARCHIVE_MAX_LAG_S)
            out.push(`archive: replica ${r.replica} is ${r.secondsBehind} s (${r.commitsBehind} commits) behind the live log (more than ${ARCHIVE_MAX_LAG_S} s)`);
    }
    return out;
}
