import * as fs from "node:fs";
import * as path from "node:path";

/**
 * The version a server root was last run by: a server start writes it into `data/metadata.toml`,
 * and an older server then refuses the root (upgrades are one-way). undefined: never started.
 */
export function rootVersion(root: string): string | undefined {
    const file = path.join(root, "data", "metadata.toml");
    if (!fs.existsSync(file)) return undefined;
    return fs.readFileSync(file, "utf8").match(/^version = "(\d+\.\d+\.\d+)"$/m)?.[1];
}

/** -1, 0 or 1 as version a is older than, equal to or newer than b (x.y.z, numerically). */
export function compareVersions(a: string, b: string): number {
    const [pa, pb] = [a, b].map((v) => v.split(".").map(Number));
    for (let i = 0; i < 3; i++) {
        const d = (pa![i] ?? 0) - (pb![i] ?? 0);
        if (d !== 0) return Math.sign(d);
    }
    return 0;
}
