import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT_FOR_TESTS as ROOT } from "../support/paths";

/**
 * toolchain/setup-tools.sh installs per profile: `dev` what the dev stack runs (scripts/dev.sh),
 * `test` everything the tests need too. `--plan` prints what a profile installs without installing.
 */
function plan(profile: string): { debian: string[]; tools: string[] } {
    const r = spawnSync("bash", [path.join(ROOT, "toolchain", "setup-tools.sh"), "--plan", profile], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    const of = (kind: string) => lines.filter((l) => l.startsWith(`${kind} `)).map((l) => l.slice(kind.length + 1));
    return { debian: of("debian"), tools: of("tool") };
}

describe("setup profiles", () => {
    const dev = plan("dev");
    const test = plan("test");

    it("the dev stack's profile builds the engine, the server, the wasm toolchain, Caddy and the commitlog archiver that runs beside the server", () => {
        expect(dev.tools).toEqual(["node", "pulumi", "language-host", "spacetimedb", "clog-archive"]);
        expect(dev.debian).toEqual(expect.arrayContaining(["caddy", "rustc-web", "cargo-web", "rust-web-src", "rust-web-llvm", "lld-22", "git"]));
    });

    it("builds none of the tools only the tests use", () => {
        for (const t of ["spacetimedb-cli", "spacetimedb-previous", "actionlint", "shfmt", "moto"]) expect(dev.tools).not.toContain(t);
        for (const p of ["docker.io", "debootstrap", "shellcheck", "cloud-init", "python3-venv"]) expect(dev.debian).not.toContain(p);
    });

    it("the test profile is the dev profile and the test tools", () => {
        expect(test.tools).toEqual([...dev.tools, "spacetimedb-cli", "spacetimedb-previous", "actionlint", "shfmt", "moto"]);
        expect(test.debian).toEqual(expect.arrayContaining([...dev.debian, "docker.io", "debootstrap", "shellcheck"]));
    });

    it("the default profile (CI, the workflows) is test", () => {
        const r = spawnSync("bash", [path.join(ROOT, "toolchain", "setup-tools.sh"), "--plan"], { encoding: "utf8" });
        expect(
            r.stdout
                .trim()
                .split("\n")
                .filter((l) => l.startsWith("tool ")),
        ).toHaveLength(test.tools.length);
    });

    it("an unknown profile is a usage error naming the profiles, exit 2", () => {
        const r = spawnSync("bash", [path.join(ROOT, "toolchain", "setup-tools.sh"), "--plan", "everything"], { encoding: "utf8" });
        expect(r.status).toBe(2);
        expect(r.stderr).toContain("unknown profile 'everything' (dev | test)");
    });
});
