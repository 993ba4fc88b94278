import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeTree } from "../../infra/backup/manifest";
import { find, list, verify } from "../../infra/backup/store";
import { parseStackConfig } from "../../infra/config";
import { PREVIOUS_SERVER_VERSION, SERVER_VERSION } from "../../infra/facts";
import { readVolume } from "../../infra/lib/dockerEngine";
import { type ContainerUpgradeInputs, check, containerRootVersion, update } from "../../infra/spacetimedb/containerUpgrade-impl";
import { callOk, type Dump, diffDumps, fullDump, tokenAccepted } from "../../ops/backup/sql";
import { docker } from "../../ops/docker";
import { toolsFile } from "../../ops/env";
import { freePort } from "../../ops/ports";
import { createBody } from "../support/dockerApi";
import { fakeModuleBuilder, localSteps } from "../support/fakeSteps";
import { byName, type CapturedResource, installHarness, output } from "../support/harness";
import { PROJECT_ROOT_FOR_TESTS as ROOT } from "../support/paths";
import { stackFileConfig } from "../support/stackFiles";

/**
 * The docker runtime's upgrade gate on real containers: the gate's inputs and the container spec
 * are the program's (captured under Pulumi mocks: the docker provider cannot be built offline),
 * the images are built locally from spacetimedb-standalone 1.1.1 and 1.2.0, and what the docker
 * provider would do after the gate (replace the container with the new image) is done here through
 * the Engine API — a stand-in for the provider, named so.
 */
const STACK = "upgrade";
const DB = "inner-universe";
const OLD_IMAGE = `inner-universe/spacetimedb:${PREVIOUS_SERVER_VERSION}-local`;
const NEW_IMAGE = `inner-universe/spacetimedb:${SERVER_VERSION}-local`;
let tmp: string;
let url: string;
let container: CapturedResource;
let gateInputs: ContainerUpgradeInputs;
let token: string;
let onOld: Dump;

function sh(cmd: string, args: string[], env: Record<string, string> = {}): string {
    const r = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, ...env } });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed:\n${r.stderr}`);
    return r.stdout.trim();
}

const state = async () => (await docker("GET", `/containers/${gateInputs.containerName}/json`)).json.State as { Running: boolean; StartedAt: string; Health?: { Status: string } };

async function waitHealthy(): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
        if ((await state())?.Health?.Status === "healthy") return;
        if (Date.now() > deadline) throw new Error(`container not healthy: ${JSON.stringify(await state())}`);
        await new Promise((r) => setTimeout(r, 500));
    }
}

/** The docker provider's part (stand-in): the container replaced with one of `image`, same spec. */
async function replaceContainer(image: string): Promise<void> {
    await docker("DELETE", `/containers/${gateInputs.containerName}?force=true`);
    const created = await docker("POST", `/containers/create?name=${gateInputs.containerName}`, createBody(container, image));
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    expect((await docker("POST", `/containers/${gateInputs.containerName}/start`)).status).toBe(204);
    await waitHealthy();
}

async function volumeTree(): Promise<ReturnType<typeof describeTree>> {
    const dir = fs.mkdtempSync(path.join(tmp, "tree-"));
    await readVolume(NEW_IMAGE, gateInputs.volumeName, path.join(dir, "root"));
    return describeTree(path.join(dir, "root"));
}

async function removeAll(): Promise<void> {
    if (!gateInputs) return;
    for (const c of [gateInputs.containerName, `${gateInputs.containerName}-upgrade-trial`]) await docker("DELETE", `/containers/${c}?force=true`);
    const vols = (await docker("GET", "/volumes")).json.Volumes ?? [];
    for (const v of vols as { Name: string }[]) if (v.Name.startsWith(gateInputs.volumeName)) await docker("DELETE", `/volumes/${v.Name}?force=true`);
}

beforeAll(async () => {
    sh("bash", ["-c", "source toolchain/dockerd.sh && ensure_dockerd"]);
    const previous = toolsFile().SPACETIMEDB_PREVIOUS_BIN;
    if (!previous || !fs.existsSync(previous)) throw new Error(`spacetimedb-standalone ${PREVIOUS_SERVER_VERSION} is not built: run \`bash toolchain/setup-tools.sh test\``);
    sh("bash", [path.join(ROOT, "toolchain", "build-test-image.sh")]);
    sh("bash", [path.join(ROOT, "toolchain", "build-test-image.sh")], { IU_SERVER_BIN: previous });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "iu-upgrade-container-"));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const harness = await installHarness(STACK, localSteps);
    const { buildStack } = await import("../../infra/program");
    const raw = stackFileConfig("test");
    const cfg = parseStackConfig(
        {
            ...raw,
            spacetimedb: { ...(raw.spacetimedb as object), port, version: SERVER_VERSION },
            container: { ...(raw.container as object), image: NEW_IMAGE },
            local: { state_dir: tmp },
        },
        { stack: STACK, projectRoot: ROOT },
    );
    const outputs = await harness.run(() => buildStack({ cfg }, { buildModule: fakeModuleBuilder }));
    await output(outputs.backup);
    await harness.settle();
    container = byName(harness.resources, "inner-universe-server-server");
    const gate = byName(harness.resources, "inner-universe-server-upgrade");
    expect(gate.type).toBe("pulumi-nodejs:dynamic/spacetimedb:ContainerUpgrade");
    expect(container.options.dependencies).toContain("inner-universe-server-upgrade");
    gateInputs = { ...(gate.inputs as ContainerUpgradeInputs), backupDir: path.join(tmp, "backups") };
    expect(gateInputs).toMatchObject({
        version: SERVER_VERSION,
        image: NEW_IMAGE,
        containerName: "inner-universe-upgrade",
        volumeName: "inner-universe-upgrade-stdb",
        hostPort: port,
    });
    await removeAll();
    // The stack as it ran before: the same spec on the 1.1.1 image.
    expect((await docker("POST", "/volumes/create", { Name: gateInputs.volumeName })).status).toBe(201);
    await replaceContainer(OLD_IMAGE);
    token = ((await (await fetch(`${url}/v1/identity`, { method: "POST" })).json()) as { token: string }).token;
    const wasm = zlib.gunzipSync(fs.readFileSync(path.join(ROOT, "test/fixtures/spacetimedb/module.wasm.gz")));
    const pub = await fetch(`${url}/v1/database/${DB}`, { method: "PUT", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/wasm" }, body: wasm });
    expect(pub.status, await pub.text()).toBe(200);
    const c = (r: string, a: unknown[]) => callOk(url, DB, token, r, a);
    await c("admin_operation", ["set_metrics_interval", '{"seconds":86400}']);
    for (const n of ["Ann", "Bob", "Cy"]) await c("create_entity", ["person", n, "{}"]);
    await c("set_config", ["e2e_upgrade", "written-on-old"]);
    onOld = await fullDump(url, DB, token);
}, 300_000);

afterAll(async () => {
    try {
        await removeAll();
    } finally {
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    }
});

describe(`docker runtime upgrade gate: ${PREVIOUS_SERVER_VERSION} → ${SERVER_VERSION}`, () => {
    it("an image that is not the version the stack says fails its trial: the backup restored, the old container serving every row, the up failing saying so", async () => {
        // An operator's mix-up: spacetimedb.version says 1.3.0, the image is 1.2.0. The trial runs
        // 1.2.0 on the volume (rewriting metadata.toml), and /v1/health gives it away.
        const mixedUp = { ...gateInputs, version: "1.3.0" };
        expect((await check(undefined, mixedUp)).inputs.plan).toBe(`server ${PREVIOUS_SERVER_VERSION} → 1.3.0: backup first, one-way, rollback = restore`);
        await expect(update("id", mixedUp, mixedUp)).rejects.toThrow(
            new RegExp(
                `upgrade ${PREVIOUS_SERVER_VERSION} → 1\\.3\\.0 failed on a trial container: the server reports version ${SERVER_VERSION.replace(/\./g, "\\.")}, not 1\\.3\\.0\\nRolled back: the upgraded contents are kept in volume inner-universe-upgrade-stdb-failed-upgrade-\\d{8}t\\d{9}z; the pre-upgrade backup \\d{8}T\\d{9}Z is restored; inner-universe-upgrade \\(SpacetimeDB ${PREVIOUS_SERVER_VERSION.replace(/\./g, "\\.")}\\) is serving it again\\.`,
            ),
        );
        expect(await containerRootVersion(gateInputs.containerName, gateInputs.rootDir)).toBe(PREVIOUS_SERVER_VERSION);
        expect((await state()).Running).toBe(true);
        await waitHealthy();
        expect(await tokenAccepted(url, token)).toBe(true);
        expect(diffDumps(onOld, await fullDump(url, DB, token))).toEqual([]);
        const aside = ((await docker("GET", "/volumes")).json.Volumes as { Name: string }[]).filter((v) => v.Name.includes("-failed-upgrade-"));
        expect(aside).toHaveLength(1);
    });

    it("upgrades: the preview's plan, a verified backup first, the trial passes; after the container is replaced every row, the token and the module are the same", async () => {
        expect((await check(undefined, gateInputs)).inputs.plan).toBe(`server ${PREVIOUS_SERVER_VERSION} → ${SERVER_VERSION}: backup first, one-way, rollback = restore`);
        const moduleBefore = (await fetch(`${url}/v1/database/${DB}`).then((r) => r.json())) as { initial_program: string };
        const { outs } = await update("id", gateInputs, gateInputs);
        expect(outs.last).toMatchObject({ from: PREVIOUS_SERVER_VERSION, to: SERVER_VERSION });
        expect(outs.plan).toBe(`server ${SERVER_VERSION}`);
        const b = find(gateInputs.backupDir, outs.last!.backupId);
        verify(b);
        expect(b.manifest).toMatchObject({
            runtime: "docker",
            serverVersion: PREVIOUS_SERVER_VERSION,
            reason: `before the upgrade ${PREVIOUS_SERVER_VERSION} → ${SERVER_VERSION}`,
        });
        expect(list(gateInputs.backupDir).map((x) => x.id)).toContain(b.id);
        // The gate leaves the old container stopped; the provider (stand-in) replaces it.
        expect((await state()).Running).toBe(false);
        expect(await containerRootVersion(gateInputs.containerName, gateInputs.rootDir)).toBe(SERVER_VERSION);
        await replaceContainer(NEW_IMAGE);
        expect(((await fetch(`${url}/v1/health`).then((r) => r.json())) as { version: string }).version).toBe(SERVER_VERSION);
        expect(await tokenAccepted(url, token)).toBe(true);
        expect(diffDumps(onOld, await fullDump(url, DB, token))).toEqual([]);
        expect(await fetch(`${url}/v1/database/${DB}`).then((r) => r.json())).toMatchObject(moduleBefore);
        // The gate is passed: the same inputs again plan nothing and do nothing.
        expect((await check(undefined, gateInputs)).inputs.plan).toBe(`server ${SERVER_VERSION}`);
    });

    it(`refuses the downgrade to ${PREVIOUS_SERVER_VERSION} in preview, before anything stops: the volume byte for byte the same`, async () => {
        const startedAt = (await state()).StartedAt;
        const tree = await volumeTree();
        const back = { ...gateInputs, version: PREVIOUS_SERVER_VERSION, image: OLD_IMAGE };
        const r = await check(undefined, back);
        expect(r.failures).toEqual([
            { property: "version", reason: expect.stringContaining(`was last run by SpacetimeDB ${SERVER_VERSION} and spacetimedb.version is ${PREVIOUS_SERVER_VERSION}`) },
        ]);
        await expect(update("id", back, back)).rejects.toThrow(/refusing a downgrade/);
        expect((await state()).StartedAt).toBe(startedAt);
        expect((await state()).Running).toBe(true);
        // (A running server's idle root does not change: compared while it serves.)
        expect(await volumeTree()).toEqual(tree);
    });
});
