import * as fs from "node:fs";
import * as path from "node:path";
import { run, tempDir, write } from "./validators";

export interface Exposure {
    unit: string;
    /** systemd's exposure level, 0.0 (locked down) to 10.0 (fully exposed). */
    level: number;
    /** Its word for the level: SAFE, OK, MEDIUM, EXPOSED or UNSAFE. */
    verdict: string;
}

// Colours, should SYSTEMD_COLORS force them on a pipe.
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

/** The "Overall exposure level" line of `systemd-analyze security` for one unit; throws when there is none. */
export function parseExposure(output: string): Exposure {
    const m = /Overall exposure level for (\S+): (\d+(?:\.\d+)?) ([A-Z]+)/.exec(output.replace(ANSI, ""));
    if (!m) throw new Error(`no overall exposure level in:\n${output}`);
    return { unit: m[1]!, level: Number(m[2]), verdict: m[3]! };
}

/**
 * Scores a unit file with the real `systemd-analyze security --offline=true`. Offline mode needs
 * neither a running systemd nor the unit's ExecStart binary; the unit goes into a temp root of its
 * own (--root) so that this machine's drop-ins for a unit of the same name cannot change the score.
 */
export function unitExposure(name: string, content: string): Exposure & { output: string } {
    const root = tempDir("sd-security");
    try {
        write(root, path.join("etc/systemd/system", name), content);
        const r = run("systemd-analyze", ["security", "--offline=true", `--root=${root}`, "--no-pager", name]);
        const output = r.stdout + r.stderr;
        if (r.status !== 0) throw new Error(`systemd-analyze security ${name} exited ${r.status}:\n${output}`);
        return { ...parseExposure(output), output };
    } finally {
        fs.rmSync(root, { recursive: true, force: true });
    }
}
