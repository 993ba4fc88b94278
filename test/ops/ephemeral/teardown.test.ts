import { describe, expect, it } from "vitest";
import { type RunOptions, runEphemeral } from "../../../ops/ephemeral/run";
import { FakeWorld, type Misbehaviour } from "../../support/fakeWorld";

const BASE = { runtime: "local", spacetimedb: { port: 3000 }, tls: { port: 8443 } };

function options(overrides: Partial<RunOptions> = {}): RunOptions {
    return {
        label: "unit",
        backendUrl: "file:///fake/backend",
        baseConfig: BASE,
        smoke: async () => undefined,
        signal: new AbortController().signal,
        log: () => undefined,
        ...overrides,
    };
}

async function run(misbehave: Misbehaviour = {}, overrides: Partial<RunOptions> = {}) {
    const world = new FakeWorld(misbehave);
    const report = await runEphemeral(options(overrides), world.deps());
    return { world, report };
}

function expectNothingLeft(world: FakeWorld) {
    expect([...world.processes]).toEqual([]);
    expect([...world.listeningPorts]).toEqual([]);
    expect([...world.stacks]).toEqual([]);
    expect([...world.files]).toEqual([]);
}

describe("ephemeral runner: teardown always follows", () => {
    it("a passing run: create → up → smoke → destroy → remove → purge → nothing left", async () => {
        const smoked: string[] = [];
        const { world, report } = await run({}, { smoke: async (ctx) => void smoked.push(ctx.stack) });
        expect(report).toMatchObject({ ok: true, phase: "done", stack: "eph-unit-t87v6t-ab12", interrupted: false });
        expect(smoked).toEqual([report.stack]);
        expect(world.steps()).toEqual(["open", "up", "destroy", "remove", "purge-backend"]);
        expect(report.teardown.steps).toEqual(["destroy", "remove", "purge-backend", "leak-check"]);
        expect(report.teardown.leaks.leaks).toEqual([]);
        expectNothingLeft(world);
    });

    it("a failing smoke test still destroys and removes, and the report names the phase", async () => {
        const { world, report } = await run(
            {},
            {
                smoke: async () => {
                    throw new Error("deliberate smoke failure");
                },
            },
        );
        expect(report).toMatchObject({ ok: false, phase: "smoke", error: "deliberate smoke failure" });
        expect(world.steps()).toEqual(["open", "up", "destroy", "remove", "purge-backend"]);
        expect(report.teardown.leaks.leaks).toEqual([]);
        expectNothingLeft(world);
    });

    it("a failing up still destroys what it created", async () => {
        const { world, report } = await run({ upFails: true });
        expect(report).toMatchObject({ ok: false, phase: "up" });
        expect(world.steps()).toEqual(["open", "up", "destroy", "remove", "purge-backend"]);
        expectNothingLeft(world);
    });

    it("an abort (SIGINT/SIGTERM) cancels a running up and tears down", async () => {
        const controller = new AbortController();
        const world = new FakeWorld({ upHangsUntilAbort: true });
        const pending = runEphemeral(options({ signal: controller.signal }), world.deps());
        await new Promise((r) => setTimeout(r, 20));
        expect(world.steps()).toEqual(["open", "up"]);
        controller.abort();
        const report = await pending;
        expect(report).toMatchObject({ ok: false, phase: "up", interrupted: true });
        expect(world.steps()).toEqual(["open", "up", "destroy", "remove", "purge-backend"]);
        expectNothingLeft(world);
    });

    it("an abort before up skips the update but still removes the created stack", async () => {
        const controller = new AbortController();
        controller.abort();
        const { world, report } = await run({}, { signal: controller.signal });
        expect(report).toMatchObject({ ok: false, phase: "create", interrupted: true });
        expect(world.steps()).toEqual(["open", "destroy", "remove", "purge-backend"]);
        expectNothingLeft(world);
    });

    it("an open that created the stack and then failed still removes it", async () => {
        const { world, report } = await run({ openFailsAfterCreate: true });
        expect(report).toMatchObject({ ok: false, phase: "create", error: "error: setting config failed" });
        expect(world.steps()).toEqual(["open", "open", "destroy", "remove", "purge-backend"]);
        expectNothingLeft(world);
    });

    it("a failed destroy is refreshed and retried before the stack is removed", async () => {
        const { world, report } = await run({ destroyFailures: 1 });
        expect(world.steps()).toEqual(["open", "up", "destroy", "refresh", "destroy", "remove", "purge-backend"]);
        expect(report.ok).toBe(true);
        expectNothingLeft(world);
    });

    it("a stack that cannot be destroyed is not removed (that would orphan it) and fails the run as a leak", async () => {
        const { world, report } = await run({ destroyFailures: 5 });
        expect(world.steps()).toContain("refresh");
        expect(world.steps()).not.toContain("remove");
        expect(report.ok).toBe(false);
        expect(report.teardown.removed).toBe(false);
        expect(report.teardown.remaining.leaks.map((l) => l.kind)).toContain("backend");
    });

    it("pending operations of an interrupted update are cleared before destroy", async () => {
        const { world } = await run({ pendingOperations: 2 });
        expect(world.steps()).toEqual(["open", "up", "clear-pending", "destroy", "remove", "purge-backend"]);
    });

    it("processes a destroy left running are found, reported and stopped", async () => {
        const { world, report } = await run({ destroyLeavesProcess: true });
        expect(report.ok).toBe(false);
        expect(report.teardown.leaks.leaks).toEqual([expect.objectContaining({ kind: "process", detail: expect.stringContaining("spacetimedb pid 100") })]);
        expect(world.journal).toContain("kill 100");
        expect(report.teardown.remaining.leaks).toEqual([]);
        expect(report.teardown.steps).toEqual(["destroy", "remove", "purge-backend", "leak-check", "cleanup", "leak-check"]);
    });
});

describe("ephemeral runner: refuses to touch what it cannot prove disposable", () => {
    it("a stack name already in the backend is never opened", async () => {
        const { world, report } = await run({ nameTaken: true });
        expect(report).toMatchObject({ ok: false, phase: "create" });
        expect(report.error).toMatch(/already exists in the backend/);
        expect(world.steps()).toEqual([]);
    });

    it("a stack whose config protects data is neither updated nor destroyed", async () => {
        const { world, report } = await run({ configValues: { protect: '{"data":true}' } });
        expect(report.error).toMatch(/refusing to touch stack eph-unit-.*protect\.data: true/);
        expect(world.steps()).toEqual(["open"]);
        expect(report.teardown.refused).toMatch(/protect\.data: true/);
        expect(report.teardown.destroyed).toBe(false);
        expect(world.journal.some((s) => s.startsWith("rm "))).toBe(false);
    });

    it("a stack holding protected resources is not destroyed", async () => {
        const urn = "urn:pulumi:eph::inner-universe::LocalShell::inner-universe-server-state";
        const { world, report } = await run({ protectedUrns: [urn] });
        expect(world.steps()).toEqual(["open", "up"]);
        expect(report.teardown.refused).toContain(urn);
        expect(report.ok).toBe(false);
    });

    it("a base stack of another runtime is refused before anything is created", async () => {
        const { world, report } = await run({}, { baseConfig: { runtime: "aws" } });
        expect(report.error).toMatch(/local runtime/);
        expect(world.steps()).toEqual([]);
    });
});
