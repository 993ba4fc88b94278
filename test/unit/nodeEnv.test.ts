import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { toolEnv } from "../../scripts/lib/engine";
import { PROJECT_ROOT_FOR_TESTS as ROOT } from "../support/paths";

/**
 * The Node settings the CLI's processes run with are written in three places, one per way in:
 * scripts/lib/pulumi-env.sh (dev.sh, ci/stack.sh), toolEnv (the TypeScript runners: tests, bench,
 * ephemeral stacks) and the env.sh setup-tools.sh generates (a user's own `pulumi`). They must agree.
 */
const NODE_KEYS = ["NODE_OPTIONS", "NODE_COMPILE_CACHE"] as const;
const cache = fs.mkdtempSync(path.join(os.tmpdir(), "iu-nodeenv-"));
const clean = { PATH: process.env.PATH ?? "", HOME: cache, IU_CACHE: cache };

function fromShell(script: string): Record<string, string> {
    const out = execFileSync("bash", ["-c", `${script}\nfor k in ${NODE_KEYS.join(" ")}; do printf '%s=%s\\n' "$k" "\${!k}"; done`], { env: clean, encoding: "utf8" });
    return Object.fromEntries(
        out
            .trim()
            .split("\n")
            .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
}

/** The env.sh setup-tools.sh writes, rendered from its heredoc with this cache dir. */
function generatedEnvSh(): string {
    const setup = fs.readFileSync(path.join(ROOT, "scripts", "setup-tools.sh"), "utf8");
    const body = setup.slice(setup.indexOf('cat >"$cache/env.sh" <<SH\n') + 'cat >"$cache/env.sh" <<SH\n'.length, setup.indexOf("\nSH\n", setup.indexOf('cat >"$cache/env.sh"')));
    return execFileSync("bash", ["-c", `cache=${JSON.stringify(cache)} prefix=/nowhere; cat <<SH\n${body}\nSH`], { env: clean, encoding: "utf8" });
}

describe("the Node settings of every way into the CLI", () => {
    const shell = fromShell(
        `source ${JSON.stringify(path.join(ROOT, "scripts", "lib", "pulumi-env.sh"))}; PULUMI_BACKEND_URL=file:///x PULUMI_CONFIG_PASSPHRASE=x pulumi_env /nonexistent`,
    );
    const envSh = fromShell(generatedEnvSh());

    it("pulumi-env.sh sets the compile cache under the tools cache and the warning switch", () => {
        expect(shell.NODE_COMPILE_CACHE).toBe(path.join(cache, "node-compile-cache"));
        expect(shell.NODE_OPTIONS).toBe("--disable-warning=MODULE_TYPELESS_PACKAGE_JSON");
    });

    it("the generated env.sh agrees", () => {
        expect(Object.fromEntries(NODE_KEYS.map((k) => [k, envSh[k]]))).toEqual(shell);
    });

    it("toolEnv agrees", () => {
        const saved = { ...process.env };
        try {
            for (const k of NODE_KEYS) delete process.env[k];
            process.env.IU_CACHE = cache;
            fs.writeFileSync(path.join(cache, "tools.json"), JSON.stringify({ PATH_PREFIX: "/nowhere" }));
            const env = toolEnv();
            expect(Object.fromEntries(NODE_KEYS.map((k) => [k, env[k]]))).toEqual(shell);
        } finally {
            process.env = saved;
        }
    });
});
