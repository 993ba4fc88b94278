import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeCheckout, setStackConfig } from "../../ops/checkout";
import { pulumi, pulumiOk } from "../../ops/pulumi";

/**
 * Our policy pack through the CLI, started the way the workflows and dev.sh start it
 * (`--policy-pack <abs>/policy/pack`), from a working directory that is not the project's: it must
 * pass on the committed dev config and block a violating one with the policy's own message,
 * before anything is created.
 */
let tmp: string;
let checkout: string;
let env: Record<string, string>;
const echo = (s: string) => process.stderr.write(s);

beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "iu-policy-"));
    checkout = makeCheckout(path.join(tmp, "checkout"));
    fs.mkdirSync(path.join(tmp, "backend"));
    env = { PULUMI_BACKEND_URL: `file://${path.join(tmp, "backend")}`, PULUMI_CONFIG_PASSPHRASE: "e2e-policy" };
    // A stack that binds the local server to every interface with no TLS front: the schema allows
    // it (tls off), our policy does not.
    fs.copyFileSync(path.join(checkout, "Pulumi.dev.yaml"), path.join(checkout, "Pulumi.open.yaml"));
    setStackConfig(checkout, "open", { spacetimedb: { address: "0.0.0.0" }, tls: { enabled: false } });
    for (const stack of ["dev", "open"]) await pulumiOk(["stack", "init", stack, "--cwd", checkout], { cwd: tmp, env });
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const preview = (stack: string, ...flags: string[]) =>
    pulumi(["preview", "-s", stack, "--cwd", checkout, "--policy-pack", path.join(checkout, "policy", "pack"), ...flags], { cwd: os.tmpdir(), env, echo });

describe("policy pack through the CLI", () => {
    it("passes on the committed dev config", async () => {
        const r = await preview("dev");
        expect(r.code).toBe(0);
        expect(r.stdout).toMatch(/✅ inner-universe@v0\.1\.0/);
    });

    it("starts when the CLI passes its logging flags on (--logflow: the engine address comes last)", async () => {
        const r = await preview("dev", "--logflow", "-v=3", "--logtostderr");
        expect(r.stdout + r.stderr).not.toContain("failed to start");
        expect(r.code).toBe(0);
        expect(r.stdout).toMatch(/✅ inner-universe@v0\.1\.0/);
    });

    it("blocks a violating config, naming the policy and the fix", async () => {
        const r = await preview("open");
        expect(r.code).not.toBe(0);
        const out = r.stdout + r.stderr;
        expect(out).toContain("[mandatory]  spacetimedb-loopback-only");
        expect(out).toContain("the local server listens on 0.0.0.0; set inner-universe:spacetimedb.address to 127.0.0.1");
        // Nothing was created: the stack is still empty.
        const exported = JSON.parse((await pulumiOk(["stack", "export", "-s", "open", "--cwd", checkout], { cwd: tmp, env })).stdout) as { deployment: { resources?: unknown[] } };
        expect(exported.deployment.resources ?? []).toHaveLength(0);
    });
});
