import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { backendUrl, keepStackFileClean, nodeSettings, passphraseEnv, pulumiEnv, toolEnv } from "../../ops/env";
import { PROJECT_ROOT_FOR_TESTS as ROOT } from "../support/paths";

/**
 * The Pulumi environment has one home, ops/env.ts: dev.sh and ci/stack.sh reach it through the
 * operator CLI, the tests and the benchmark through toolEnv, a user's shell through `ops env`.
 */
let tmp: string;
let saved: NodeJS.ProcessEnv;
beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "iu-env-"));
    saved = { ...process.env };
    for (const k of ["NODE_OPTIONS", "NODE_COMPILE_CACHE", "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"]) delete process.env[k];
    process.env.IU_CACHE = tmp;
    fs.writeFileSync(path.join(tmp, "tools.json"), JSON.stringify({ PATH_PREFIX: "/nowhere" }));
});
afterEach(() => {
    process.env = saved;
    fs.rmSync(tmp, { recursive: true, force: true });
});

describe("the Pulumi environment", () => {
    it("keeps the compile cache under the tools cache and adds the warning switch once", () => {
        expect(nodeSettings({})).toEqual({ NODE_OPTIONS: "--disable-warning=MODULE_TYPELESS_PACKAGE_JSON", NODE_COMPILE_CACHE: path.join(tmp, "node-compile-cache") });
        const twice = nodeSettings({ NODE_OPTIONS: "--max-old-space-size=4096 --disable-warning=MODULE_TYPELESS_PACKAGE_JSON" });
        expect(twice.NODE_OPTIONS).toBe("--max-old-space-size=4096 --disable-warning=MODULE_TYPELESS_PACKAGE_JSON");
    });

    it("a checkout gets its own file backend and a passphrase made once, readable by its owner only", () => {
        const env = pulumiEnv(tmp);
        expect(env.PULUMI_BACKEND_URL).toBe(`file://${tmp}/.iu/state`);
        expect(fs.statSync(path.join(tmp, ".iu", "state")).isDirectory()).toBe(true);
        const file = env.PULUMI_CONFIG_PASSPHRASE_FILE!;
        expect(fs.statSync(file).mode & 0o777).toBe(0o600);
        const first = fs.readFileSync(file, "utf8");
        expect(first).toMatch(/^[0-9a-f]{48}$/);
        expect(fs.readFileSync(pulumiEnv(tmp).PULUMI_CONFIG_PASSPHRASE_FILE!, "utf8")).toBe(first);
    });

    it("the user's own backend and passphrase win", () => {
        expect(backendUrl(tmp, { PULUMI_BACKEND_URL: "s3://bucket" })).toBe("s3://bucket");
        expect(passphraseEnv(tmp, { PULUMI_CONFIG_PASSPHRASE: "" })).toEqual({});
        expect(passphraseEnv(tmp, { PULUMI_CONFIG_PASSPHRASE_FILE: "/run/secret" })).toEqual({});
        expect(fs.existsSync(path.join(tmp, ".iu", "passphrase"))).toBe(false);
    });

    it("toolEnv puts the pinned tools first and the same settings as pulumiEnv", () => {
        const env = toolEnv();
        expect(env.PATH!.split(":")[0]).toBe("/nowhere");
        const ours = pulumiEnv(ROOT);
        for (const k of [
            "PULUMI_SKIP_UPDATE_CHECK",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION",
            "PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER",
            "NODE_OPTIONS",
            "NODE_COMPILE_CACHE",
        ]) {
            expect(env[k], k).toBe(ours[k]);
        }
    });

    it("`ops env` gives a shell exactly that environment", () => {
        const out = execFileSync(process.execPath, ["--import", "tsx", path.join(ROOT, "ops", "main.ts"), "env"], { cwd: ROOT, env: process.env, encoding: "utf8" });
        const shell = execFileSync("bash", ["-c", `eval "$1"; env -0`, "env", out], { env: {}, encoding: "utf8" });
        const got = Object.fromEntries(
            shell
                .split("\0")
                .filter(Boolean)
                .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
        );
        const want = { ...toolEnv(), ...pulumiEnv(ROOT) };
        for (const [k, v] of Object.entries(want)) expect(got[k], k).toBe(v);
    });
});

describe("the stack file stays free of machine salt", () => {
    const salt = "encryptionsalt: v1:abc\n";
    it("takes out the salt lines Pulumi added to a file that had none", () => {
        fs.writeFileSync(path.join(tmp, "Pulumi.s.yaml"), "config:\n  a: b\n");
        const clean = keepStackFileClean(tmp, "s");
        fs.appendFileSync(path.join(tmp, "Pulumi.s.yaml"), salt);
        clean();
        expect(fs.readFileSync(path.join(tmp, "Pulumi.s.yaml"), "utf8")).toBe("config:\n  a: b\n");
    });

    it("leaves a file that carried its own salt alone", () => {
        fs.writeFileSync(path.join(tmp, "Pulumi.s.yaml"), `${salt}config:\n  a: b\n`);
        const clean = keepStackFileClean(tmp, "s");
        clean();
        expect(fs.readFileSync(path.join(tmp, "Pulumi.s.yaml"), "utf8")).toBe(`${salt}config:\n  a: b\n`);
    });
});
