import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig } from "../../infra/config";
import { buildWasm } from "../../infra/lib/wasmBuild";
import { freePort, SHARED_WASM_TARGET } from "../../ops/ports";
import { createBody, dockerApi } from "../support/dockerApi";
import { fakeModuleBuilder, localSteps } from "../support/fakeSteps";
import { byName, type CapturedResource, installHarness, output } from "../support/harness";
import { mintIdentity, request, sqlRows } from "../support/http";
import { PROJECT_ROOT_FOR_TESTS as ROOT } from "../support/paths";
import { stackFileConfig } from "../support/stackFiles";

/**
 * The test environment's container, for real: the spec comes from the program (captured through
 * Pulumi mocks, since the docker provider cannot be built offline), the daemon is Debian's
 * docker.io, the image is built locally from the same server binary the dev stack runs.
 */
let container: CapturedResource;
let volume: CapturedResource;
let port: number;
let url: string;

function sh(cmd: string, args: string[], env: Record<string, string> = {}): string {
    const r = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, ...env } });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed:\n${r.stderr}`);
    return r.stdout.trim();
}

async function createAndStart(): Promise<string> {
    const created = await dockerApi("POST", `/containers/create?name=${container.inputs.name}`, createBody(container));
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const started = await dockerApi("POST", `/containers/${created.json.Id}/start`);
    expect(started.status).toBe(204);
    return created.json.Id as string;
}

async function inspect(id: string) {
    return (await dockerApi("GET", `/containers/${id}/json`)).json;
}

async function waitHealthy(id: string): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
        const state = (await inspect(id)).State;
        if (state.Health?.Status === "healthy") return;
        if (!state.Running || Date.now() > deadline) throw new Error(`container not healthy: ${JSON.stringify(state)}`);
        await new Promise((r) => setTimeout(r, 500));
    }
}

async function removeAll(): Promise<void> {
    if (container) await dockerApi("DELETE", `/containers/${container.inputs.name}?force=true`);
    if (volume) await dockerApi("DELETE", `/volumes/${volume.inputs.name}?force=true`);
}

beforeAll(async () => {
    const image = sh("bash", [path.join(ROOT, "toolchain", "build-test-image.sh")]);
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const harness = await installHarness("test", localSteps);
    const { buildStack } = await import("../../infra/program");
    const raw = stackFileConfig("test");
    const cfg = parseStackConfig({ ...raw, spacetimedb: { ...(raw.spacetimedb as object), port } }, { stack: "test", projectRoot: ROOT });
    expect(cfg.container.image).toBe(image);
    const outputs = await harness.run(() => buildStack({ cfg }, { buildModule: fakeModuleBuilder }));
    await output(outputs.atlas);
    container = byName(harness.resources, "inner-universe-server-server");
    volume = byName(harness.resources, "inner-universe-server-root");
    await removeAll();
    const v = await dockerApi("POST", "/volumes/create", { Name: volume.inputs.name, Labels: Object.fromEntries(volume.inputs.labels.map((l: any) => [l.label, l.value])) });
    expect(v.status).toBe(201);
});

afterAll(removeAll);

describe("the test stack's container on a real Docker daemon", () => {
    let id: string;
    let owner: { identity: string; token: string };
    let wasm: string;

    it("starts from the program's spec and turns healthy through its health check", async () => {
        id = await createAndStart();
        await waitHealthy(id);
        expect((await request("GET", `${url}/v1/ping`)).status).toBe(200);
    });

    it("publishes the port on loopback only", async () => {
        const info = await inspect(id);
        const bindings = info.NetworkSettings.Ports["3000/tcp"];
        expect(bindings).toEqual([{ HostIp: "127.0.0.1", HostPort: String(port) }]);
        expect(info.HostConfig.Init).toBe(true);
        expect(info.Config.User).toBe("1000:1000");
    });

    it("keeps data and signing keys on the volume across container replacement", async () => {
        owner = await mintIdentity(url);
        wasm = buildWasm({ moduleDir: path.join(ROOT, "module"), targetDir: SHARED_WASM_TARGET, timeoutMs: 20 * 60_000 }).wasm;
        const fs = await import("node:fs");
        const published = await request("PUT", `${url}/v1/database/inner-universe`, { token: owner.token, body: fs.readFileSync(wasm), contentType: "application/wasm" });
        expect(published.status, published.body).toBe(200);
        expect(await sqlRows(url, "inner-universe", "SELECT * FROM config WHERE key = 'module_config'")).toHaveLength(1);

        // Replace the container the way the provider does (stop with its stop signal, then remove).
        // The 1.2 server flushes its control database on an interval and has no shutdown handler:
        // give it that interval before stopping (see README, "Real engine").
        await new Promise((r) => setTimeout(r, 2000));
        expect((await dockerApi("POST", `/containers/${id}/stop`)).status).toBe(204);
        expect((await dockerApi("DELETE", `/containers/${id}`)).status).toBe(204);
        id = await createAndStart();
        await waitHealthy(id);
        expect(await sqlRows(url, "inner-universe", "SELECT * FROM config WHERE key = 'module_config'")).toHaveLength(1);
        // The old token still verifies: the JWT keys came back with the volume, not regenerated.
        const verify = await request("GET", `${url}/v1/identity/${owner.identity}/verify`, { token: owner.token });
        expect(verify.status).toBe(204);
    });

    it("stops with SIGINT (exit 130), well before the stop timeout", async () => {
        const info = await inspect(id);
        expect(info.Config.StopSignal).toBe("SIGINT");
        const started = Date.now();
        const stopped = await dockerApi("POST", `/containers/${id}/stop`);
        expect(stopped.status).toBe(204);
        expect(Date.now() - started).toBeLessThan(10_000);
        expect((await inspect(id)).State.ExitCode).toBe(130);
    });
});
