import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";

const SCRIPT = path.resolve(__dirname, "../../scripts/archive-ctl.sh");
let tmp: string;
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

function ctl(action: string, env: Record<string, string>) {
    return spawnSync("bash", [SCRIPT, action], { env: { PATH: process.env.PATH ?? "", ...env }, encoding: "utf8" });
}

describe("archive-ctl.sh check (run by server-ctl.sh before the server starts)", () => {
    const envOf = (archive: string, bin: string) => ({
        IU_ROOT_DIR: path.join(tmp, "stdb"),
        IU_ARCHIVE_DIR: archive,
        IU_ARCHIVER_BIN: bin,
        IU_ARCHIVE_INTERVAL_MS: "200",
        IU_ARCHIVE_PID_FILE: `${archive}.pid`,
        IU_ARCHIVE_LOG_FILE: `${archive}.log`,
    });
    it.each([
        ["an archive inside the root", (t: string) => path.join(t, "stdb", "archive"), "true", "is inside the server root"],
        ["a missing archiver binary", (t: string) => path.join(t, "archive"), "/nonexistent/clog-archive", "archiver binary not found: /nonexistent/clog-archive"],
        ["an archive outside the root and a binary found", (t: string) => path.join(t, "archive"), "true", ""],
    ])("%s", (_name, archiveOf, bin, message) => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "iu-archive-ctl-"));
        const r = ctl("check", envOf(archiveOf(tmp), bin));
        expect(r.status).toBe(message ? 1 : 0);
        expect(r.stderr).toContain(message);
        // check starts nothing
        expect(fs.existsSync(`${archiveOf(tmp)}.pid`)).toBe(false);
    });
});
