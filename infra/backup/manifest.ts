import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/**
 * A backup's content list: every file of the copied server root with its sha256, size and mode,
 * and which files are hard links of one another (SpacetimeDB's snapshots hard-link unchanged
 * objects; a copy that breaks the links is larger and no longer the same tree).
 */
export interface ManifestFile {
    /** Relative to the copied root, '/'-separated. */
    path: string;
    kind: "file" | "symlink" | "dir";
    mode: number;
    size?: number;
    sha256?: string;
    /** Path of the first file of its hard-link group (files only; absent for the first one). */
    linkOf?: string;
    /** Target of a symlink, as stored. */
    target?: string;
}

export interface Manifest {
    format: 1;
    id: string;
    stack: string;
    runtime: "local" | "docker";
    database: string;
    createdAt: string;
    /** The moment the copied data stops: the server was stopped (quiesced) at this time. */
    recoveryPoint: string;
    method: "quiesced-copy" | "helper-container";
    /** The SpacetimeDB version that last ran the copied root (its data/metadata.toml), when known. */
    serverVersion?: string;
    /** Why it was taken, when not by hand (e.g. "before the upgrade 1.1.1 → 1.2.0"). */
    reason?: string;
    files: ManifestFile[];
    totals: { files: number; bytes: number; hardLinks: number };
}

export function sha256File(file: string): string {
    const h = createHash("sha256");
    const fd = fs.openSync(file, "r");
    try {
        const buf = Buffer.allocUnsafe(1 << 20);
        for (;;) {
            const n = fs.readSync(fd, buf, 0, buf.length, null);
            if (n === 0) break;
            h.update(buf.subarray(0, n));
        }
    } finally {
        fs.closeSync(fd);
    }
    return h.digest("hex");
}

/** Every entry under `root` in a stable order (directories before their contents). */
export function walk(root: string): string[] {
    const out: string[] = [];
    const visit = (rel: string) => {
        const names = fs.readdirSync(path.join(root, rel)).sort();
        for (const name of names) {
            const r = rel ? `${rel}/${name}` : name;
            out.push(r);
            if (fs.lstatSync(path.join(root, r)).isDirectory()) visit(r);
        }
    };
    visit("");
    return out;
}

/** The manifest entries of a tree, hashing each distinct inode once. */
export function describeTree(root: string): { files: ManifestFile[]; totals: Manifest["totals"] } {
    const firstByInode = new Map<string, string>();
    const files: ManifestFile[] = [];
    let bytes = 0;
    let hardLinks = 0;
    for (const rel of walk(root)) {
        const full = path.join(root, rel);
        const st = fs.lstatSync(full);
        const mode = st.mode & 0o7777;
        if (st.isDirectory()) files.push({ path: rel, kind: "dir", mode });
        else if (st.isSymbolicLink()) files.push({ path: rel, kind: "symlink", mode, target: fs.readlinkSync(full) });
        else if (st.isFile()) {
            const inode = `${st.dev}:${st.ino}`;
            const first = st.nlink > 1 ? firstByInode.get(inode) : undefined;
            if (first) {
                const of = files.find((f) => f.path === first)!;
                files.push({ path: rel, kind: "file", mode, size: st.size, sha256: of.sha256!, linkOf: first });
                hardLinks++;
            } else {
                if (st.nlink > 1) firstByInode.set(inode, rel);
                files.push({ path: rel, kind: "file", mode, size: st.size, sha256: sha256File(full) });
                bytes += st.size;
            }
        } else throw new Error(`${full}: not a file, directory or symlink (sockets and devices are not backed up)`);
    }
    return { files, totals: { files: files.filter((f) => f.kind === "file").length, bytes, hardLinks } };
}

/**
 * Copies a tree preserving hard links, modes, symlinks and modification times (what `cp -a` /
 * `rsync -aH` do), into a `dest` that must not exist yet.
 */
export function copyTree(src: string, dest: string): void {
    if (fs.existsSync(dest)) throw new Error(`${dest} already exists; refusing to copy over it`);
    fs.mkdirSync(dest, { recursive: true, mode: fs.statSync(src).mode & 0o7777 });
    const copied = new Map<string, string>();
    const dirs: [string, fs.Stats][] = [];
    for (const rel of walk(src)) {
        const from = path.join(src, rel);
        const to = path.join(dest, rel);
        const st = fs.lstatSync(from);
        if (st.isDirectory()) {
            fs.mkdirSync(to, { mode: 0o700 });
            dirs.push([to, st]);
        } else if (st.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(from), to);
        else if (st.isFile()) {
            const inode = `${st.dev}:${st.ino}`;
            const earlier = st.nlink > 1 ? copied.get(inode) : undefined;
            if (earlier) fs.linkSync(earlier, to);
            else {
                fs.copyFileSync(from, to);
                fs.chmodSync(to, st.mode & 0o7777);
                fs.utimesSync(to, st.atime, st.mtime);
                if (st.nlink > 1) copied.set(inode, to);
            }
        } else throw new Error(`${from}: not a file, directory or symlink`);
    }
    // Directory modes and times last: writing into a directory changes its mtime.
    for (const [to, st] of dirs.reverse()) {
        fs.chmodSync(to, st.mode & 0o7777);
        fs.utimesSync(to, st.atime, st.mtime);
    }
    fs.chmodSync(dest, fs.statSync(src).mode & 0o7777);
}

export interface VerifyProblem {
    path: string;
    problem: string;
}

/** What differs between a manifest and the tree at `root` (empty: the tree is the backup, byte for byte). */
export function verifyTree(root: string, files: ManifestFile[]): VerifyProblem[] {
    const problems: VerifyProblem[] = [];
    const expected = new Set(files.map((f) => f.path));
    if (!fs.existsSync(root)) return [{ path: ".", problem: `${root} is missing` }];
    for (const rel of walk(root)) if (!expected.has(rel)) problems.push({ path: rel, problem: "not in the manifest" });
    const inodes = new Map<string, string>();
    for (const f of files) {
        const full = path.join(root, f.path);
        let st: fs.Stats;
        try {
            st = fs.lstatSync(full);
        } catch {
            problems.push({ path: f.path, problem: "missing" });
            continue;
        }
        if (f.kind === "dir") {
            if (!st.isDirectory()) problems.push({ path: f.path, problem: "expected a directory" });
            continue;
        }
        if (f.kind === "symlink") {
            if (!st.isSymbolicLink() || fs.readlinkSync(full) !== f.target) problems.push({ path: f.path, problem: `expected a symlink to ${f.target}` });
            continue;
        }
        if (!st.isFile()) {
            problems.push({ path: f.path, problem: "expected a regular file" });
            continue;
        }
        if (st.size !== f.size) problems.push({ path: f.path, problem: `size ${st.size}, manifest says ${f.size}` });
        else if (f.linkOf) {
            const first = inodes.get(f.linkOf);
            if (first !== `${st.dev}:${st.ino}`) problems.push({ path: f.path, problem: `not a hard link of ${f.linkOf}` });
        } else {
            const sum = sha256File(full);
            if (sum !== f.sha256) problems.push({ path: f.path, problem: `sha256 ${sum}, manifest says ${f.sha256}` });
        }
        inodes.set(f.path, `${st.dev}:${st.ino}`);
    }
    return problems;
}

export function formatProblems(where: string, problems: VerifyProblem[]): string {
    const shown = problems.slice(0, 20).map((p) => `  ${p.path}: ${p.problem}`);
    const more = problems.length > 20 ? [`  … and ${problems.length - 20} more`] : [];
    return [`${where}: ${problems.length} file(s) differ from the manifest`, ...shown, ...more].join("\n");
}
