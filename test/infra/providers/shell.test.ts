import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { create, diff, envHash, remove, update } from "../../../infra/providers/shell-impl";

/** The provider implementation runs real bash: these tests are its contract with the engine. */
describe("LocalShell provider", () => {
    const base = { create: "echo created-$IU_X", environment: { IU_X: "1" }, triggers: ["a"] };

    it("create runs the script with its environment and keeps stdout, never the secret environment", async () => {
        const { outs } = await create({ ...base, create: 'echo "$IU_X:$IU_SECRET"', secretEnvironment: { IU_SECRET: "s3cr3t" } });
        expect(outs.stdout).toBe("1:s3cr3t");
        expect(JSON.stringify({ ...outs, stdout: "" })).not.toContain("s3cr3t");
        expect(outs.secretEnvironmentHash).toBe(envHash({ IU_SECRET: "s3cr3t" }));
    });

    it("a failing script fails the step with the tail of its stderr", async () => {
        await expect(create({ create: "echo doing; echo 'port 3000 in use' >&2; exit 3" })).rejects.toThrow(/create failed \(exit 3\):\nport 3000 in use/);
    });

    it("a script past its timeout is killed and reported", async () => {
        await expect(create({ create: "sleep 5", timeoutSeconds: 1 })).rejects.toThrow(/timeout 1s/);
    });

    const diffs: [string, Record<string, unknown>, { changes: boolean; replaces: string[] }][] = [
        ["nothing changed", {}, { changes: false, replaces: [] }],
        ["a trigger changed", { triggers: ["b"] }, { changes: true, replaces: ["triggers"] }],
        ["the environment changed", { environment: { IU_X: "2" } }, { changes: true, replaces: [] }],
        ["the script changed", { create: "echo other" }, { changes: true, replaces: [] }],
        ["a secret changed", { secretEnvironment: { T: "new" } }, { changes: true, replaces: [] }],
        ["check fails (default: replace)", { check: "exit 1" }, { changes: true, replaces: ["check"] }],
        ["check fails (update mode)", { check: "exit 1", checkFailure: "update" }, { changes: true, replaces: [] }],
        ["check fails but a trigger changed (replace once)", { check: "exit 1", triggers: ["b"] }, { changes: true, replaces: ["triggers"] }],
    ];
    it.each(diffs)("diff: %s", async (_label, change, want) => {
        // Stored state: a passing check. A row's `check` is what the probe does at diff time.
        const stored = { ...base, check: "true", secretEnvironment: { T: "old" } };
        const { outs } = await create(stored);
        const d = await diff("id", { ...outs, check: (change.check as string) ?? "true" }, { ...stored, ...change } as never);
        expect({ changes: d.changes, replaces: d.replaces }).toEqual(want);
    });

    it("update runs `update` (or create) with the new environment; delete runs `delete` with the stored one", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shell-"));
        const file = path.join(dir, "log");
        const args = { create: `echo create >> ${file}`, update: `echo update-$IU_X >> ${file}`, delete: `echo delete-$IU_X >> ${file}`, environment: { IU_X: "1" } };
        const { outs } = await create(args);
        const { outs: updated } = await update("id", outs, { ...args, environment: { IU_X: "2" } });
        await remove("id", updated);
        expect(fs.readFileSync(file, "utf8").trim().split("\n")).toEqual(["create", "update-2", "delete-2"]);
        fs.rmSync(dir, { recursive: true });
    });
});
