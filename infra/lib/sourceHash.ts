import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** Directories never part of a build's inputs. */
const SKIP = new Set(["target", ".git", "node_modules"]);

/**
 * Content hash of the files a build reads: relative paths and bytes, in sorted order, so it is
 * stable across machines and checkouts and changes exactly when an input changes.
 */
export function hashTree(root: string, extraFiles: string[] = []): string {
    const files = listFiles(root).map((f) => [path.relative(root, f), f] as const);
    for (const f of extraFiles) files.push([`extra:${path.basename(f)}`, f]);
    files.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const h = createHash("sha256");
    for (const [rel, abs] of files) {
        h.update(rel).update("\0").update(fs.readFileSync(abs)).update("\0");
    }
    return h.digest("hex");
}

export function listFiles(dir: string): string[] {
    const out: string[] = [];
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        if (SKIP.has(entry.name)) continue;
        const p = path.join(dir, entry.name);
        if (entry.isDirectory()) out.push(...listFiles(p));
        else if (entry.isFile()) out.push(p);
    }
    return out;
}

export function sha256File(file: string): string {
    return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}
