import { spawnSync } from "node:child_process";
import { toolsFile } from "../env";

/**
 * toolchain/clog-archive, run for its JSON answer (`info`, `cut`, `verify`): every reading and
 * writing of the commitlog format goes through it, and through it SpacetimeDB's own crate.
 */
export function clogArchiveBin(): string {
    if (process.env.CLOG_ARCHIVE_BIN) return process.env.CLOG_ARCHIVE_BIN;
    try {
        return toolsFile().CLOG_ARCHIVE_BIN ?? "clog-archive";
    } catch {
        return "clog-archive";
    }
}

/** Runs clog-archive; its JSON line on success, its own message (naming files and offsets) as the error otherwise. */
export function clogArchive<T>(args: string[]): T {
    const r = spawnSync(clogArchiveBin(), args, { encoding: "utf8" });
    if (r.error) throw new Error(`clog-archive could not run (${r.error.message}): run \`bash toolchain/setup-tools.sh dev\``);
    if (r.status !== 0) throw new Error(r.stderr.trim().replace(/^clog-archive: /, "") || `clog-archive ${args[0]} exited ${r.status}`);
    return JSON.parse(r.stdout) as T;
}

export interface LogInfo {
    segments: number[];
    /** One past the last whole commit's offset. */
    end: number;
    torn_tail: boolean;
}

export const logInfo = (clog: string) => clogArchive<LogInfo>(["info", "--clog", clog]);
