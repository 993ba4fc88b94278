import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { clearStaleLocks, isStale, lockDir, stackLocks } from "../../../ops/deploy/locks";

const lock = (o: Partial<{ pid: number; hostname: string }>) => ({ file: "f", pid: 1, hostname: "here", username: "u", timestamp: "t", ...o });

describe("stale stack locks", () => {
    it.each([
        ["made here by a process that is gone", lock({ pid: 42 }), true],
        ["made here by a live process", lock({ pid: 7 }), false],
        ["made on another host (a CI runner)", lock({ pid: 42, hostname: "runner" }), false],
        ["without a pid", lock({ pid: Number.NaN }), false],
    ])("%s: stale %s", (_what, l, stale) => {
        expect(isStale(l, "here", (pid) => pid === 7)).toBe(stale);
    });

    it("lives under the file backend's .pulumi/locks; other backends have none we can read", () => {
        expect(lockDir("file:///srv/state?no_tmp_dir=true", "dev")).toBe("/srv/state/.pulumi/locks/organization/inner-universe/dev");
        expect(lockDir("s3://bucket", "dev")).toBeUndefined();
    });

    it("clears only this machine's locks of processes that are gone, saying which", () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "iu-locks-"));
        const dir = lockDir(`file://${root}`, "dev")!;
        fs.mkdirSync(dir, { recursive: true });
        const write = (name: string, pid: number, hostname: string) =>
            fs.writeFileSync(path.join(dir, `${name}.json`), JSON.stringify({ pid, hostname, username: "root", timestamp: "2026-12-04T00:00:00Z" }));
        write("gone", 2 ** 22 + 17, os.hostname());
        write("live", process.pid, os.hostname());
        write("elsewhere", 2 ** 22 + 17, "another-host");
        const said = clearStaleLocks(`file://${root}`, "dev");
        expect(said).toEqual([expect.stringContaining(`${path.join(dir, "gone.json")} was taken by pid ${2 ** 22 + 17} on ${os.hostname()}`)]);
        expect(
            stackLocks(`file://${root}`, "dev")
                .map((l) => path.basename(l.file))
                .sort(),
        ).toEqual(["elsewhere.json", "live.json"]);
        fs.rmSync(root, { recursive: true });
    });
});
