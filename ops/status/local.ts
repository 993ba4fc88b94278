import * as fs from "node:fs";
import { treeBytes } from "../../infra/backup/store";
import { daemonFiles, usageFile } from "../../infra/lib/localLayout";
import { alive } from "../ports";
import { type Forecast, forecast, recordUsage } from "./growth";

/**
 * Facts about a server running on this machine (runtime local): its process, its root dir's size
 * and the free space of the filesystem holding it, and its log. Paths follow scripts/server-ctl.sh:
 * the root dir R holds data/ and config/, with R.pid and R.log beside it.
 */

export interface LocalFacts {
    rootDir: string;
    pidFile: string;
    pid?: number;
    running: boolean;
    /** Bytes of the root dir, each hard-linked file once (snapshots share files with the commitlog). */
    rootBytes?: number;
    disk?: { freeBytes: number; totalBytes: number; freePercent: number };
    /** At the rate the root has grown over the recorded `status` runs (R.usage beside it). */
    growth?: Forecast;
    logFile: string;
}

export function localFacts(rootDir: string, now: () => number = Date.now): LocalFacts {
    const { pid: pidFile, log: logFile } = daemonFiles(rootDir);
    const text = fs.existsSync(pidFile) ? fs.readFileSync(pidFile, "utf8").trim() : "";
    const pid = /^\d+$/.test(text) ? Number(text) : undefined;
    const facts: LocalFacts = { rootDir, pidFile, ...(pid ? { pid } : {}), running: pid !== undefined && alive(pid), logFile };
    if (fs.existsSync(rootDir)) {
        facts.rootBytes = treeBytes(rootDir);
        const s = fs.statfsSync(rootDir);
        const totalBytes = s.blocks * s.bsize;
        const freeBytes = s.bavail * s.bsize;
        facts.disk = { freeBytes, totalBytes, freePercent: totalBytes > 0 ? Math.round((freeBytes / totalBytes) * 1000) / 10 : 0 };
        // The root can grow into the free space: full when it has taken all of it.
        const history = recordUsage(usageFile(rootDir), { at: now(), usedBytes: facts.rootBytes });
        const f = forecast(history, facts.rootBytes + freeBytes);
        if (f) facts.growth = f;
    }
    return facts;
}

/** The last n lines of a file (reads only its end). */
export function tailLines(file: string, n: number): string[] {
    if (n <= 0 || !fs.existsSync(file)) return [];
    const fd = fs.openSync(file, "r");
    try {
        const size = fs.fstatSync(fd).size;
        let chunk = Math.min(size, 64 * 1024);
        for (;;) {
            const buf = Buffer.alloc(chunk);
            fs.readSync(fd, buf, 0, chunk, size - chunk);
            const lines = buf.toString("utf8").replace(/\n$/, "").split("\n");
            // With more than n lines read, the possibly cut first line is not among the last n.
            if (lines.length > n || chunk === size) return size === 0 ? [] : lines.slice(-n);
            chunk = Math.min(size, chunk * 4);
        }
    } finally {
        fs.closeSync(fd);
    }
}
