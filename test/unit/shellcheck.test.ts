import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT_FOR_TESTS as ROOT } from "../support/paths";

const scripts = [
    ".ci/run",
    "policy/pack",
    ...["scripts", "scripts/lib", "scripts/ci", "scripts/drill"].flatMap((d) =>
        fs
            .readdirSync(path.join(ROOT, d))
            .filter((f) => f.endsWith(".sh"))
            .map((f) => `${d}/${f}`),
    ),
];

describe("shell steps pass shellcheck", () => {
    it("finds the scripts", () => expect(scripts.length).toBeGreaterThan(10));
    it.each(scripts)("%s", (file) => {
        const r = spawnSync("shellcheck", ["-x", "--severity=style", file], { cwd: ROOT, encoding: "utf8" });
        if (r.error) throw new Error(`shellcheck is not installed (scripts/setup-tools.sh installs it): ${r.error.message}`);
        expect(r.status, r.stdout).toBe(0);
    });
});
