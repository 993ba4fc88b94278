import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** Debian package of each validator; CI installs them (toolchain/setup-tools.sh). */
export const TOOL_PACKAGES: Record<string, string> = {
    "cloud-init": "cloud-init",
    "systemd-analyze": "systemd",
    caddy: "caddy",
    shellcheck: "shellcheck",
    bash: "bash",
    "mkfs.xfs": "xfsprogs",
    blkid: "util-linux",
    "mkfs.ext4": "e2fsprogs",
};

export interface RunResult {
    status: number;
    stdout: string;
    stderr: string;
}

const SBIN = "/usr/local/sbin:/usr/sbin:/sbin";

/** Runs a real tool; a missing tool fails the test with the package to install, never skips it. */
export function run(cmd: string, args: string[], opts: { input?: string; env?: Record<string, string>; cwd?: string } = {}): RunResult {
    const r = spawnSync(cmd, args, {
        input: opts.input,
        encoding: "utf8",
        cwd: opts.cwd,
        env: { ...process.env, PATH: `${process.env.PATH}:${SBIN}`, ...opts.env },
        timeout: 120_000,
    });
    if (r.error && (r.error as NodeJS.ErrnoException).code === "ENOENT") {
        throw new Error(`${cmd} is not installed: install the Debian package "${TOOL_PACKAGES[cmd] ?? cmd}" (toolchain/setup-tools.sh installs every validator)`);
    }
    if (r.error) throw r.error;
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function tempDir(label: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), `iu-${label}-`));
}

export function write(dir: string, rel: string, content: string, mode = 0o644): string {
    const p = path.join(dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content, { mode });
    return p;
}
