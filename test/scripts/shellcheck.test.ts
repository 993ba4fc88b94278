import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT_FOR_TESTS as ROOT } from "../support/paths";

/** Every shell file the repository holds: *.sh wherever it lives, and the extensionless entry points. */
const scripts = [
    ".ci/run",
    "policy/pack",
    ...execFileSync("git", ["ls-files", "-co", "--exclude-standard", "*.sh"], { cwd: ROOT, encoding: "utf8" })
        .split("\n")
        .filter((f) => f && fs.existsSync(path.join(ROOT, f))),
];

describe("shell steps pass shellcheck", () => {
    it("finds the scripts", () => expect(scripts.length).toBeGreaterThan(10));
    it.each(scripts)("%s", (file) => {
        const r = spawnSync("shellcheck", ["-x", "--severity=style", file], { cwd: ROOT, encoding: "utf8" });
        if (r.error) throw new Error(`shellcheck is not installed (toolchain/setup-tools.sh installs it): ${r.error.message}`);
        expect(r.status, r.stdout).toBe(0);
    });
});
