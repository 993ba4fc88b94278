import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { find, verify } from "../../infra/backup/store";
import { parseStackConfig } from "../../infra/config";
import { helper } from "../../infra/lib/dockerEngine";
import type { BackupTarget } from "../../infra/program";
import { createContainer, restoreContainer } from "../../ops/backup/container";
import { callOk, type Dump, diffDumps, fullDump, tokenAccepted } from "../../ops/backup/sql";
import { docker } from "../../ops/docker";
import { freePort } from "../../ops/ports";
import type { StackFacts } from "../../ops/stack";
import { createBody } from "../support/dockerApi";
import { fakeModuleBuilder, localSteps } from "../support/fakeSteps";
import { byName, type CapturedResource, installHarness, output } from "../support/harness";
import { PROJECT_ROOT_FOR_TESTS as ROOT } from "../support/paths";
import { stackFileConfig } from "../support/stackFiles";

/**
 * Backup and restore of the test stack's container volume, for real: the program's `backup`
 * output and container spec (captured through Pulumi mocks: the docker provider cannot be built
 * offline) run on Debian's docker.io with the locally built server image; the backup goes through
 * a helper container mounting the named volume, as `npm run backup -- create --stack test` does.
 */
let container: CapturedResource;
let target: BackupTarget;
let facts: StackFacts;
let tmp: string;
let url: string;
let before: Dump;
const db = "inner-universe";

function sh(cmd: string, args: string[], env: Record<string, string> = {}): string {
    const r = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, ...env } });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed:\n${r.stderr}`);
    return r.stdout.trim();
}

async function waitHealthy(): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
        const state = (await docker("GET", `/containers/${target.containerName}/json`)).json.State;
        if (state?.Health?.Status === "healthy") return;
        if (Date.now() > deadline) throw new Error(`container not healthy: ${JSON.stringify(state)}`);
        await new Promise((r) => setTimeout(r, 500));
    }
}

async function removeAll(): Promise<void> {
    if (!target) return;
    await docker("DELETE", `/containers/${target.containerName}?force=true`);
    const vols = (await docker("GET", "/volumes")).json.Volumes ?? [];
    for (const v of vols as { Name: string }[])
        if (v.Name === target.volumeName || v.Name.startsWith(`${target.volumeName}-pre-restore-`)) await docker("DELETE", `/volumes/${v.Name}?force=true`);
}

beforeAll(async () => {
    sh("bash", ["-c", "source toolchain/dockerd.sh && ensure_dockerd"]);
    sh("bash", [path.join(ROOT, "toolchain", "build-test-image.sh")]);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "iu-backup-container-"));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const harness = await installHarness("test", localSteps);
    const { buildStack } = await import("../../infra/program");
    const raw = stackFileConfig("test");
    const cfg = parseStackConfig({ ...raw, spacetimedb: { ...(raw.spacetimedb as object), port } }, { stack: "test", projectRoot: ROOT });
    const outputs = await harness.run(() => buildStack({ cfg }, { buildModule: fakeModuleBuilder }));
    target = { ...(await output(outputs.backup)), adminUrl: url };
    container = byName(harness.resources, "inner-universe-server-server");
    expect(target).toMatchObject({ runtime: "docker", rootDir: "/stdb", volumeName: "inner-universe-test-stdb", containerName: "inner-universe-test", image: cfg.container.image });
    expect(container.inputs.volumes).toEqual([{ volumeName: target.volumeName, containerPath: target.rootDir }]);
    await removeAll();
    expect((await docker("POST", "/volumes/create", { Name: target.volumeName })).status).toBe(201);
    const created = await docker("POST", `/containers/create?name=${target.containerName}`, createBody(container));
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    expect((await docker("POST", `/containers/${target.containerName}/start`)).status).toBe(204);
    await waitHealthy();
    const minted = (await (await fetch(`${url}/v1/identity`, { method: "POST" })).json()) as { token: string };
    facts = { target, token: minted.token, projectDir: ROOT };
    const wasm = zlib.gunzipSync(fs.readFileSync(path.join(ROOT, "test/fixtures/spacetimedb/module.wasm.gz")));
    const pub = await fetch(`${url}/v1/database/${db}`, { method: "PUT", headers: { Authorization: `Bearer ${minted.token}`, "Content-Type": "application/wasm" }, body: wasm });
    expect(pub.status, await pub.text()).toBe(200);
});

afterAll(async () => {
    try {
        await removeAll();
    } finally {
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    }
});

describe("container volume backup through a helper container", () => {
    const backupDir = () => path.join(tmp, "backups");

    it("writes rows, backs the volume up (server stopped and started again), rows unchanged", async () => {
        const c = (r: string, a: unknown[]) => callOk(url, db, facts.token, r, a);
        await c("admin_operation", ["set_metrics_interval", '{"seconds":86400}']);
        for (const n of ["Ann", "Bob", "Cy"]) await c("create_entity", ["person", n, "{}"]);
        await c("create_relation", [1, 2, "knows", "{}"]);
        await c("set_config", ["e2e_container", "before-backup"]);
        before = await fullDump(url, db, facts.token);
        const b = await createContainer(facts, { backupDir: backupDir(), keep: 2 });
        expect(b.manifest.runtime).toBe("docker");
        expect(b.manifest.files.map((f) => f.path)).toEqual(expect.arrayContaining(["config/id_ecdsa", "config/id_ecdsa.pub", "data"]));
        await waitHealthy();
        expect(diffDumps(before, await fullDump(url, db, facts.token))).toEqual([]);
    });

    it("the volume wiped (keys too), restore: every row identical and the old token accepted again", async () => {
        expect((await docker("POST", `/containers/${target.containerName}/stop`)).status).toBe(204);
        await helper(target.image!, "find /stdb -mindepth 1 -maxdepth 1 -exec rm -rf {} +", [{ Type: "volume", Source: target.volumeName!, Target: "/stdb" }]);
        expect((await docker("POST", `/containers/${target.containerName}/start`)).status).toBe(204);
        await waitHealthy();
        // Data and keys gone: the server made new keys, so the token no longer verifies.
        expect(await tokenAccepted(url, facts.token)).toBe(false);
        const r = await restoreContainer(facts, { backupDir: backupDir() });
        expect(r.previousRoot).toMatch(/^volume inner-universe-test-stdb-pre-restore-/);
        await waitHealthy();
        expect(await tokenAccepted(url, facts.token)).toBe(true);
        const after = await fullDump(url, db, facts.token);
        expect(diffDumps(before, after)).toEqual([]);
        expect(after).toEqual(before);
    });

    it("one byte changed in the backup: verify and restore refuse, naming the file, the container untouched", async () => {
        const b = find(backupDir());
        const victim = b.manifest.files.find((f) => f.kind === "file" && !f.linkOf && f.path === "config/id_ecdsa.pub")!;
        const file = path.join(b.dir, "files", victim.path);
        const bytes = fs.readFileSync(file);
        bytes[0] ^= 1;
        fs.writeFileSync(file, bytes);
        expect(() => verify(b)).toThrow(/config\/id_ecdsa\.pub: sha256/);
        const startedAt = (await docker("GET", `/containers/${target.containerName}/json`)).json.State.StartedAt;
        await expect(restoreContainer(facts, { backupDir: backupDir() })).rejects.toThrow(/config\/id_ecdsa\.pub: sha256/);
        expect((await docker("GET", `/containers/${target.containerName}/json`)).json.State.StartedAt).toBe(startedAt);
        expect(diffDumps(before, await fullDump(url, db, facts.token))).toEqual([]);
    });
});
