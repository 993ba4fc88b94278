import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { atlasOutputSchema } from "../../infra/contract/atlas";
import { SERVER_VERSION } from "../../infra/facts";
import { makeCheckout, setStackConfig } from "../../ops/checkout";
import { freePort, SHARED_WASM_TARGET } from "../../ops/ports";
import { changed, lastChanges, pulumiOk, stackOutputs } from "../../ops/pulumi";
import { mintIdentity, request, sqlRows } from "../support/http";
import { type Standalone, startStandalone } from "../support/standalone";

/**
 * runtime: remote — a SpacetimeDB server the stack does not run (here: a real 1.2 server this test
 * starts itself, outside the stack, as Maincloud or a company cluster would be). The stack owns
 * only the deploy: build → publish as the given deployer token → settings → readiness.
 */
const STACK = "remote";
let tmp: string;
let checkout: string;
let env: Record<string, string>;
let serverUrl: string;
let server: Standalone;
let deployer: { identity: string; token: string };

const echo = (s: string) => process.stderr.write(s);
const cli = (args: string[]) => pulumiOk(args, { cwd: checkout, env, echo });
const pack = () => ["--policy-pack", path.join(checkout, "policy", "pack")];
beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "iu-remote-"));
    const root = path.join(tmp, "server");
    fs.mkdirSync(path.join(root, "config"), { recursive: true });
    server = await startStandalone(root, await freePort(), { logFile: path.join(tmp, "server.log") });
    serverUrl = server.url;
    // The operator of the server hands the deployer a token; the stack never mints one.
    deployer = await mintIdentity(serverUrl);
    checkout = makeCheckout(path.join(tmp, "checkout"));
    setStackConfig(checkout, STACK, {
        runtime: "remote",
        remote: { url: serverUrl },
        module: { target_dir: SHARED_WASM_TARGET },
        local: { state_dir: path.join(tmp, "state") },
    });
    fs.mkdirSync(path.join(tmp, "backend"));
    fs.writeFileSync(path.join(tmp, "passphrase"), "e2e-remote-passphrase", { mode: 0o600 });
    env = { PULUMI_BACKEND_URL: `file://${path.join(tmp, "backend")}`, PULUMI_CONFIG_PASSPHRASE_FILE: path.join(tmp, "passphrase") };
    await cli(["stack", "init", STACK]);
    await cli(["config", "set", "--secret", "-s", STACK, "inner-universe:deployer_token", deployer.token]);
});

afterAll(async () => {
    await server?.stop("SIGINT");
    fs.rmSync(tmp, { recursive: true, force: true });
});

describe("runtime: remote, against a server started outside the stack", () => {
    it("the preview states the version the server reports, and that there is no gate", async () => {
        const preview = await cli(["preview", "-s", STACK, "--diff", ...pack()]);
        expect(preview.stdout).toContain(`server ${SERVER_VERSION} (runtime remote: its operator upgrades it, no upgrade gate here)`);
    });

    it("up publishes as the given deployer, runs no server, and fills the atlas contract from the URL", async () => {
        await cli(["up", "-s", STACK, "--yes", ...pack()]);
        const outputs = await stackOutputs(STACK, { cwd: checkout, env });
        const atlas = atlasOutputSchema.parse(outputs.atlas);
        expect(atlas).toMatchObject({
            runtime: "remote",
            http: { url: serverUrl },
            ws: { url: serverUrl.replace(/^http/, "ws") },
            tls: { enabled: false },
            deployer: { identity: deployer.identity },
        });
        const exported = JSON.parse((await cli(["stack", "export", "-s", STACK])).stdout) as { deployment: { resources: { type: string }[] } };
        const types = exported.deployment.resources.map((r) => r.type);
        // Only the deploy steps: no process, container, proxy or identity mint of ours.
        expect(types.filter((t) => t.startsWith("pulumi-nodejs:dynamic/")).sort()).toEqual([
            "pulumi-nodejs:dynamic/spacetimedb:Database",
            "pulumi-nodejs:dynamic/spacetimedb:ModuleSettings",
            "pulumi-nodejs:dynamic/spacetimedb:Readiness",
            "pulumi-nodejs:dynamic/spacetimedb:RemoteServerVersion",
        ]);
        expect(types.some((t) => t.includes("LocalShell") || t.startsWith("docker:") || t.startsWith("aws:"))).toBe(false);
        const info = await request("GET", `${serverUrl}/v1/database/inner-universe`);
        expect(info.status).toBe(200);
        expect(info.body).toContain(deployer.identity);
        expect(await sqlRows(serverUrl, "inner-universe", "SELECT * FROM event_log WHERE event_type = 'SYSTEM_INITIALIZED'", deployer.token)).toHaveLength(1);
    });

    it("a second up changes nothing", async () => {
        await cli(["up", "-s", STACK, "--yes", ...pack()]);
        expect(changed(await lastChanges(STACK, { cwd: checkout, env }))).toEqual([]);
    });

    it("destroy removes the stack's resources and leaves the database on the server it does not run", async () => {
        await cli(["destroy", "-s", STACK, "--yes"]);
        const exported = JSON.parse((await cli(["stack", "export", "-s", STACK])).stdout) as { deployment: { resources?: unknown[] } };
        expect(exported.deployment.resources ?? []).toHaveLength(0);
        expect((await request("GET", `${serverUrl}/v1/database/inner-universe`)).status).toBe(200);
        expect(await sqlRows(serverUrl, "inner-universe", "SELECT * FROM event_log WHERE event_type = 'SYSTEM_INITIALIZED'", deployer.token)).toHaveLength(1);
    });
});
