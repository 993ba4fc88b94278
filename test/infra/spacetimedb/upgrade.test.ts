import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { check, compareObservations, diff, downgradeMessage, planOf, stepReason, type UpgradeInputs } from "../../../infra/spacetimedb/upgrade-impl";

/** The upgrade gate's pure parts; test/e2e/upgrade.test.ts runs the whole gate on real servers. */
describe("upgrade gate: the plan a preview shows", () => {
    it.each([
        [undefined, "1.2.0", "server 1.2.0"],
        ["1.2.0", "1.2.0", "server 1.2.0"],
        ["1.1.1", "1.2.0", "server 1.1.1 → 1.2.0: backup first, one-way, rollback = restore"],
        ["1.9.0", "1.10.0", "server 1.9.0 → 1.10.0: backup first, one-way, rollback = restore"],
        ["1.2.0", "1.1.1", "server 1.2.0 → 1.1.1: refused (a downgrade)"],
    ])("root %s, target %s: %s", (disk, target, plan) => {
        expect(planOf(disk, target)).toBe(plan);
    });
});

function rootOn(version: string | undefined): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "iu-gate-"));
    fs.mkdirSync(path.join(root, "data"));
    if (version) fs.writeFileSync(path.join(root, "data", "metadata.toml"), `version = "${version}"\nedition = "standalone"\n`);
    return root;
}

const inputs = (rootDir: string, version: string): UpgradeInputs => ({
    stack: "dev",
    database: "db",
    rootDir,
    backupDir: `${rootDir}-backups`,
    version,
    serverUrl: "http://127.0.0.1:1",
    start: "true",
    stop: "true",
    environment: {},
    readyTimeoutSeconds: 1,
    timeoutMs: 100,
});

describe("upgrade gate: check reads the root's metadata.toml", () => {
    it("refuses a downgrade in check (preview), naming the key, both versions and the restore", async () => {
        const r = await check(undefined, inputs(rootOn("1.2.0"), "1.1.1"));
        expect(r.failures).toEqual([{ property: "version", reason: expect.stringContaining("was last run by SpacetimeDB 1.2.0 and spacetimedb.version is 1.1.1") }]);
        expect(r.failures![0]!.reason).toContain("backup restore --stack STACK --id ID");
    });

    it("plans the upgrade of an older root, and nothing for a new or same-version one", async () => {
        expect((await check(undefined, inputs(rootOn("1.1.1"), "1.2.0"))).inputs.plan).toContain("backup first, one-way");
        expect((await check(undefined, inputs(rootOn(undefined), "1.2.0"))).inputs.plan).toBe("server 1.2.0");
        expect((await check(undefined, inputs(rootOn("1.2.0"), "1.2.0"))).inputs.plan).toBe("server 1.2.0");
    });

    it("diff: the same plan and version is no change; a pending upgrade is one", async () => {
        const root = rootOn("1.2.0");
        const same = (await check(undefined, inputs(root, "1.2.0"))).inputs;
        expect((await diff("id", { ...same }, same)).changes).toBe(false);
        const pending = (await check(undefined, inputs(rootOn("1.1.1"), "1.2.0"))).inputs;
        expect((await diff("id", { ...pending, plan: "server 1.2.0" }, pending)).changes).toBe(true);
    });

    it("the message says nothing was stopped", () => {
        expect(downgradeMessage("/r", "1.2.0", "1.1.1")).toContain("nothing was stopped");
    });
});

describe("upgrade gate: what counts as the same server after the switch", () => {
    const before = { programHash: "0xaa", rows: { entity: 3, config: 2 } };
    it.each([
        ["identical", { programHash: "0xaa", rows: { entity: 3, config: 2 } }, []],
        ["more rows (writes)", { programHash: "0xaa", rows: { entity: 4, config: 2, metric: 1 } }, []],
        ["a row lost", { programHash: "0xaa", rows: { entity: 2, config: 2 } }, ["table entity: 3 rows before, 2 after"]],
        ["a table gone", { programHash: "0xaa", rows: { entity: 3 } }, ["table config is gone (2 rows before)"]],
        ["another module", { programHash: "0xbb", rows: { entity: 3, config: 2 } }, ["the running module changed: 0xaa before, 0xbb after"]],
    ])("%s", (_what, after, problems) => {
        expect(compareObservations(before, after)).toEqual(problems);
    });
});

describe("upgrade gate: a failed step's reason", () => {
    it("is the script's own line, not the server log it tails", () => {
        const out = "http://127.0.0.1:3000/v1/ping did not answer within 10s; last log lines:\n2026-12-04T21:38:50Z WARN noise\nmore noise";
        expect(stepReason(out)).toBe("http://127.0.0.1:3000/v1/ping did not answer within 10s; last log lines:");
        expect(stepReason("just one line\n")).toBe("just one line");
        expect(stepReason("")).toBe("no output");
    });
});
