import * as fs from "node:fs";
import * as path from "node:path";
import { describeTree, formatProblems, type Manifest, verifyTree, walk } from "./manifest.ts";

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

/** Whether `id` is a backup id (what backupId makes): nothing else may name a directory under the backup dir. */
export const isBackupId = (id: string) => ID.test(id);

/**
 * A backup holds the server's private JWT signing key, the database's ownership anchor: its
 * directory is its owner's alone. Made 0700 when missing; one that others can enter or read is
 * refused (naming the fix), never loosened or tightened behind the operator's back.
 */
export function privateBackupDir(backupDir: string): void {
    if (!fs.existsSync(backupDir)) {
        fs.mkdirSync(backupDir, { recursive: true, mode: 0o700 });
        fs.chmodSync(backupDir, 0o700);
        return;
    }
    const mode = fs.statSync(backupDir).mode & 0o777;
    if (mode & 0o077) {
        throw new Error(
            `backup dir ${backupDir} is open to others (mode ${mode.toString(8).padStart(3, "0")}): a backup holds the server's private signing key; \`chmod 700 ${backupDir}\` or choose another --dir`,
        );
    }
}

/** Takes group and other permissions off every entry of a copied tree (the signing key among them) before its manifest is written. */
export function makePrivate(root: string): void {
    for (const rel of ["", ...walk(root)]) {
        const full = path.join(root, rel);
        const st = fs.lstatSync(full);
        if (!st.isSymbolicLink() && st.mode & 0o077) fs.chmodSync(full, st.mode & 0o7700);
    }
}

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

/** Bytes a copy of `root` takes (each hard-linked inode once). */
export function treeBytes(root: string): number {
    const seen = new Set<string>();
    let bytes = 0;
    for (const rel of walk(root)) {
        const st = fs.lstatSync(path.join(root, rel));
        if (!st.isFile() || seen.has(`${st.dev}:${st.ino}`)) continue;
        seen.add(`${st.dev}:${st.ino}`);
        bytes += st.size;
    }
    return bytes;
}

/** Refuses, naming the path and both sizes, when `dir`'s filesystem has less than `bytes` free (and a margin). */
export function requireSpace(dir: string, bytes: number): void {
    const st = fs.statfsSync(dir);
    const free = Number(st.bavail) * Number(st.bsize);
    const needed = bytes + 1024 * 1024;
    if (free < needed) {
        throw new Error(`${dir}: ${free} bytes free, the backup needs ${needed} (the root's ${bytes} bytes and 1 MiB for the manifest); free space there or choose another --dir`);
    }
}

/**
 * Opens a backup: `<backupDir>/<id>.partial` (never listed, verified or restored), after the
 * directory is found private and with room for `bytes`. Returns the path the files go to.
 */
export function beginBackup(backupDir: string, id: string, bytes: number): string {
    privateBackupDir(backupDir);
    requireSpace(backupDir, bytes);
    const partial = path.join(backupDir, `${id}.partial`);
    fs.mkdirSync(partial, { mode: 0o700 });
    return partial;
}

/** A backup that failed halfway leaves nothing behind: a half-written copy must never look like a backup. */
export function abandonBackup(backupDir: string, id: string): void {
    fs.rmSync(path.join(backupDir, `${id}.partial`), { recursive: true, force: true });
}

/** Closes a backup whose files are in `<id>.partial/files`: private modes, the manifest, then the rename that makes it a backup. */
export function sealBackup(backupDir: string, id: string, fields: Omit<Manifest, "format" | "id" | "files" | "totals">): StoredBackup {
    const partial = path.join(backupDir, `${id}.partial`);
    makePrivate(path.join(partial, FILES));
    const manifest: Manifest = { format: 1, id, ...fields, ...describeTree(path.join(partial, FILES)) };
    writeManifest(partial, manifest);
    const dir = path.join(backupDir, id);
    fs.renameSync(partial, dir);
    return { id, dir, manifest };
}
