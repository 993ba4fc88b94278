/**
 * The decisions of a point-in-time restore, apart from the I/O (ops/backup/pitr.ts does that):
 * which transaction offset a `--to-time` means, which base backup a point can start from, where the
 * archive leaves a gap, which snapshots lie past the point. Offsets are SpacetimeDB transaction
 * offsets; an `end` is one past the last offset held (clog-archive's `info`/`cut` report it so).
 */

/** One line of the archive's index.jsonl (toolchain/clog-archive/src/index.rs). */
export interface IndexEntry {
    min: number;
    n: number;
    at_ms: number;
}

/** `--to-time T`: the last offset of the latest commit archived at or before T; undefined when none was. */
export function offsetAtTime(entries: readonly IndexEntry[], atMs: number): number | undefined {
    let found: number | undefined;
    for (const e of entries) if (e.at_ms <= atMs) found = e.min + e.n - 1;
    return found;
}

/** A physical backup with the end of its replica's commitlog. */
export interface BaseCandidate {
    id: string;
    end: number;
}

/** The newest backup whose log ends at or before `offset` (older than the point); undefined when none is. */
export function chooseBase<T extends BaseCandidate>(candidates: readonly T[], offset: number): T | undefined {
    return candidates.filter((c) => c.end <= offset + 1).sort((a, b) => b.end - a.end)[0];
}

/**
 * Why the archive cannot carry a base ending at `baseEnd` up to `offset`, naming the missing
 * offsets; undefined when it can. `archive` is the archive's first offset and end (undefined: empty).
 */
export function coverageGap(baseEnd: number, archive: { first: number; end: number } | undefined, offset: number): string | undefined {
    if (baseEnd > offset) return undefined;
    if (!archive || archive.end === 0) return `no archive holds offsets ${baseEnd}..=${offset} (the archive is empty)`;
    if (archive.first > baseEnd)
        return `no continuous archive covers offsets ${baseEnd}..=${archive.first - 1}: the base ends at offset ${baseEnd - 1}, the archive starts at ${archive.first}`;
    if (archive.end <= offset) return `no continuous archive covers offsets ${archive.end}..=${offset}: the archive ends at offset ${archive.end - 1}`;
    return undefined;
}

/** Snapshot directories (`<offset:020>.snapshot_dir`) past `offset`: the server would start from them, past the point. */
export function snapshotsAfter(names: readonly string[], offset: number): string[] {
    return names.filter((n) => {
        const m = /^(\d+)\.snapshot_dir$/.exec(n);
        return m !== null && Number(m[1]) > offset;
    });
}
