import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { cacheRoot, EXPORT_TABLES, HOST_ROOT_DIR, PREVIOUS_SERVER_VERSION, SERVER_VERSION, standaloneStartArgs } from "../../infra/facts";
import { PROJECT_ROOT_FOR_TESTS as ROOT } from "../support/paths";

/**
 * The copies of infra/facts.ts that other languages must keep: each is run (or evaluated by its own
 * language) and compared with the TypeScript value, so changing one without the other fails here.
 */
const read = (f: string) => fs.readFileSync(path.join(ROOT, f), "utf8");
const bash = (script: string, env: Record<string, string> = {}) => execFileSync("bash", ["-c", script], { env: { PATH: process.env.PATH ?? "", ...env }, encoding: "utf8" });

describe("facts other languages repeat", () => {
    it.each([
        ["STDB_VERSION", SERVER_VERSION],
        ["STDB_PREVIOUS_VERSION", PREVIOUS_SERVER_VERSION],
    ])("toolchain/setup-tools.sh builds the server versions the program runs and the upgrade drill verifies (%s)", (name, version) => {
        const line = read("toolchain/setup-tools.sh").match(new RegExp(`^${name}=.*$`, "m"))?.[0];
        expect(line, `setup-tools.sh has no ${name}= line`).toBeDefined();
        expect(bash(`${line}; printf %s "$${name}"`)).toBe(version);
    });

    it.each(["toolchain/setup-tools.sh", "toolchain/bootstrap.sh", "toolchain/dockerd.sh", "ops/drill/host/rootfs.sh"])(
        "%s defaults the cache root as cacheRoot() does",
        (file) => {
            const defaults = [...read(file).matchAll(/\$\{IU_CACHE:-[^}]*\}/g)].map((m) => m[0]);
            expect(defaults.length, `${file} names no IU_CACHE default`).toBeGreaterThan(0);
            for (const d of defaults) expect(bash(`printf %s "${d}"`, { HOME: "/home/someone" })).toBe(cacheRoot({ HOME: "/home/someone" }));
        },
    );

    it("the module's import reducers accept exactly the tables an export carries, in its order", () => {
        const rust = read("module/src/import/rows.rs").match(/pub const TABLES: \[&str; (\d+)\] = \[([^\]]*)\];/);
        expect(rust, "module/src/import/rows.rs has no TABLES const").not.toBeNull();
        expect([...rust![2]!.matchAll(/"([^"]+)"/g)].map((m) => m[1])).toEqual([...EXPORT_TABLES]);
        expect(Number(rust![1])).toBe(EXPORT_TABLES.length);
    });

    it("the test image's entrypoint starts the server with the launch line every runtime uses", () => {
        const script = read("toolchain/build-test-image.sh");
        const shim = script.slice(script.indexOf("<<'SHIM'\n") + "<<'SHIM'\n".length, script.indexOf("\nSHIM\n"));
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iu-facts-"));
        const fake = path.join(dir, "spacetimedb-standalone");
        fs.writeFileSync(fake, `#!/bin/sh\nprintf '%s\\n' "$*" > ${JSON.stringify(path.join(dir, "argv"))}\n`, { mode: 0o755 });
        fs.writeFileSync(path.join(dir, "spacetime"), shim.replaceAll("/usr/local/bin/spacetimedb-standalone", fake), { mode: 0o755 });
        const root = path.join(dir, "stdb");
        execFileSync("sh", [path.join(dir, "spacetime"), `--root-dir=${root}`, "start", "--listen-addr", "0.0.0.0:3000"]);
        expect(fs.readFileSync(path.join(dir, "argv"), "utf8").trim()).toBe([...standaloneStartArgs(root), "--listen-addr", "0.0.0.0:3000"].join(" "));
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("the test image keeps its root where the program mounts the volume (HOST_ROOT_DIR)", () => {
        const script = read("toolchain/build-test-image.sh");
        const cmd = JSON.parse(script.match(/^CMD (\[.*\])$/m)![1]!) as string[];
        expect(cmd[0]).toBe(`--root-dir=${HOST_ROOT_DIR}`);
        expect(script).toMatch(new RegExp(`^root=${HOST_ROOT_DIR}$`, "m"));
    });
});
