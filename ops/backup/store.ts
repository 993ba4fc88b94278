import * as fs from "node:fs";
import * as path from "node:path";
import { formatProblems, type Manifest, verifyTree } from "./manifest";

/**
 * Where a stack's physical backups live: `<backupDir>/<id>/{manifest.json,files/}`. The id is the
 * UTC creation time (sortable); a backup being written is `<id>.partial` until it is complete, so
 * an interrupted copy is never listed, verified or restored.
 */
export const MANIFEST = "manifest.json";
export const FILES = "files";

export function backupId(now: Date): string {
    return now
        .toISOString()
        .replace(/[-:]/g, "")
        .replace(/\.(\d{3})Z$/, "$1Z");
}

const ID = /^\d{8}T\d{9}Z$/;

/** True when `inner` is `outer` or lies beneath it. */
export function isWithin(outer: string, inner: string): boolean {
    const rel = path.relative(path.resolve(outer), path.resolve(inner));
    return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/** Refuses a backup directory inside the server root (a backup of the root would contain itself, and a restore would delete it). */
export function checkBackupDir(backupDir: string, rootDir: string): void {
    if (isWithin(rootDir, backupDir)) {
        throw new Error(`backup dir ${backupDir} lies inside the server root ${rootDir}; choose one outside it (--dir)`);
    }
}

export interface StoredBackup {
    id: string;
    dir: string;
    manifest: Manifest;
}

export function list(backupDir: string): StoredBackup[] {
    if (!fs.existsSync(backupDir)) return [];
    return fs
        .readdirSync(backupDir)
        .filter((n) => ID.test(n) && fs.existsSync(path.join(backupDir, n, MANIFEST)))
        .sort()
        .map((id) => ({ id, dir: path.join(backupDir, id), manifest: JSON.parse(fs.readFileSync(path.join(backupDir, id, MANIFEST), "utf8")) as Manifest }));
}

/** The backup named `id`, or the newest when `id` is "latest" / absent. */
export function find(backupDir: string, id?: string): StoredBackup {
    const all = list(backupDir);
    if (all.length === 0) throw new Error(`no backups in ${backupDir} (npm run ops -- backup create --stack …)`);
    if (!id || id === "latest") return all[all.length - 1]!;
    const b = all.find((x) => x.id === id);
    if (!b) throw new Error(`no backup ${id} in ${backupDir}; have: ${all.map((x) => x.id).join(", ")}`);
    return b;
}

/** Which backups a retention count removes: the oldest beyond `keep`. */
export function beyondRetention(ids: string[], keep: number): string[] {
    if (!Number.isInteger(keep) || keep < 1) throw new Error(`--keep must be an integer ≥ 1, got ${keep}`);
    const sorted = [...ids].sort();
    return sorted.slice(0, Math.max(0, sorted.length - keep));
}

export function prune(backupDir: string, keep: number): string[] {
    const removed = beyondRetention(
        list(backupDir).map((b) => b.id),
        keep,
    );
    for (const id of removed) fs.rmSync(path.join(backupDir, id), { recursive: true, force: true });
    return removed;
}

/** Throws, naming every differing file, unless the stored files match the manifest byte for byte. */
export function verify(b: StoredBackup): void {
    const problems = verifyTree(path.join(b.dir, FILES), b.manifest.files);
    if (problems.length > 0) throw new Error(formatProblems(`backup ${b.id} (${b.dir})`, problems));
}

export function writeManifest(dir: string, manifest: Manifest): void {
    fs.writeFileSync(path.join(dir, MANIFEST), JSON.stringify(manifest, null, 2) + "\n", { mode: 0o600 });
}
