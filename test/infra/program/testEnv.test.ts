import { beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig } from "../../../infra/config";
import { atlasOutputSchema } from "../../../infra/contract/atlas";
import type { StackOutputs } from "../../../infra/program";
import { runPoliciesOver } from "../../../policy/policies";
import { fakeModuleBuilder, localSteps, WASM_SHA } from "../../support/fakeSteps";
import { byName, type CapturedResource, DATABASE_TYPE, installHarness, output } from "../../support/harness";
import { PROJECT_ROOT_FOR_TESTS as ROOT } from "../../support/paths";
import { stackFileConfig } from "../../support/stackFiles";

async function capture(stack: string, raw: Record<string, unknown>) {
    const harness = await installHarness(stack, localSteps);
    const { buildStack } = await import("../../../infra/program");
    const cfg = parseStackConfig(raw, { stack, projectRoot: ROOT });
    const outputs: StackOutputs = await harness.run(() => buildStack({ cfg }, { buildModule: fakeModuleBuilder }));
    await output(outputs.atlas);
    return { resources: harness.resources, outputs };
}

let resources: CapturedResource[];
let outputs: StackOutputs;

beforeAll(async () => {
    ({ resources, outputs } = await capture("test", stackFileConfig("test")));
});

describe("test stack (docker runtime) resource graph", () => {
    it("passes our policy pack (zero violations)", () => {
        expect(resources.length).toBeGreaterThan(5);
        expect(runPoliciesOver(resources, { protectData: false })).toEqual([]);
    });

    it("runs the server in a container instead of a local process", () => {
        const types = resources.map((r) => r.type);
        expect(types).toContain("docker:index/container:Container");
        expect(types).toContain("docker:index/volume:Volume");
        expect(resources.some((r) => r.name.endsWith("server-process") || r.name.startsWith("inner-universe-tls"))).toBe(false);
        // The image is local (pull: false): no registry resource.
        expect(types).not.toContain("docker:index/remoteImage:RemoteImage");
    });

    it("keeps the server root (data + JWT keys) on a named volume", () => {
        const volume = byName(resources, "inner-universe-server-root");
        expect(volume.inputs.name).toBe("inner-universe-test-stdb");
        expect(volume.options.parent).toBe("inner-universe-server");
        const container = byName(resources, "inner-universe-server-server");
        expect(container.inputs.volumes).toEqual([{ volumeName: "inner-universe-test-stdb", containerPath: "/stdb" }]);
        expect(container.inputs.command.slice(0, 2)).toEqual(["--root-dir=/stdb", "start"]);
    });

    it("binds the port to loopback, stops with SIGINT through an init, restarts, health-checks", () => {
        const c = byName(resources, "inner-universe-server-server").inputs;
        expect(c.ports).toEqual([{ internal: 3000, external: 3100, ip: "127.0.0.1", protocol: "tcp" }]);
        expect(c.stopSignal).toBe("SIGINT");
        expect(c.init).toBe(true);
        expect(c.restart).toBe("unless-stopped");
        expect(c.healthcheck).toEqual({
            tests: ["CMD", "/bin/busybox", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:3000/v1/ping"],
            interval: "5s",
            timeout: "3s",
            retries: 10,
            startPeriod: "10s",
        });
        expect(c.image).toBe("inner-universe/spacetimedb:1.2.0-local");
        expect(c.wait).toBe(true);
        expect(byName(resources, "inner-universe-server-server").options.deleteBeforeReplace).toBe(true);
    });

    it("publishes and checks readiness against the container's loopback port", () => {
        const publish = byName(resources, "inner-universe-publish-wasm");
        expect(publish.type).toBe(DATABASE_TYPE);
        expect(publish.inputs.serverUrl).toBe("http://127.0.0.1:3100");
        expect(byName(resources, "inner-universe-ready-probe").inputs.publicUrl).toBeUndefined();
    });

    it("reports plain http/ws URLs to Atlas when TLS is off (loopback only)", async () => {
        const atlas = atlasOutputSchema.parse(await output(outputs.atlas));
        expect(atlas).toMatchObject({
            runtime: "docker",
            http: { url: "http://127.0.0.1:3100" },
            ws: { url: "ws://127.0.0.1:3100" },
            tls: { enabled: false },
            module: { sha256: WASM_SHA },
        });
        expect(atlas.tls.caCertPath).toBeUndefined();
    });
});

describe("container variants", () => {
    it("in-memory test stacks get no volume and pass --in-memory", async () => {
        const { resources: rs } = await capture("mem", { ...stackFileConfig("test"), spacetimedb: { port: 3100, in_memory: true } });
        expect(rs.some((r) => r.type === "docker:index/volume:Volume")).toBe(false);
        const c = byName(rs, "inner-universe-server-server").inputs;
        expect(c.volumes).toEqual([]);
        expect(c.command).toContain("--in-memory");
    });
});
