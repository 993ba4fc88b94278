import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { atlasOutputSchema } from "../../infra/contract/atlas";
import { makeCheckout, setStackConfig } from "../../scripts/lib/checkout";
import { changed, lastChanges, pulumiOk, stackOutputs } from "../../scripts/lib/cli";
import { freePort, SHARED_WASM_TARGET } from "../../scripts/lib/workspace";
import { mintIdentity, request, sqlRows } from "./support/http";

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
let server: ChildProcess;
let deployer: { identity: string; token: string };

const echo = (s: string) => process.stderr.write(s);
const cli = (args: string[]) => pulumiOk(args, { cwd: checkout, env, echo });
const pack = () => ["--policy-pack", path.join(checkout, "policy", "pack")];
const serverBinary = () => {
    const dirs = [...(process.env.PATH ?? "").split(path.delimiter), path.join(os.homedir(), ".cache", "inner-universe", "spacetimedb-standalone-1.2.0", "bin")];
    const found = dirs.map((d) => path.join(d, "spacetimedb-standalone")).find((f) => fs.existsSync(f));
    if (!found) throw new Error("spacetimedb-standalone 1.2.0 not found: run `bash scripts/setup-tools.sh`");
    return found;
};

beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "iu-remote-"));
    const root = path.join(tmp, "server");
    fs.mkdirSync(path.join(root, "config"), { recursive: true });
    const port = await freePort();
    serverUrl = `http://127.0.0.1:${port}`;
    server = spawn(
        serverBinary(),
        [
            "start",
            "--data-dir",
            path.join(root, "data"),
            "--jwt-pub-key-path",
            path.join(root, "config", "id_ecdsa.pub"),
            "--jwt-priv-key-path",
            path.join(root, "config", "id_ecdsa"),
            "--listen-addr",
            `127.0.0.1:${port}`,
        ],
        { stdio: ["ignore", "ignore", fs.openSync(path.join(tmp, "server.log"), "a")] },
    );
    for (let i = 0; ; i++) {
        if ((await request("GET", `${serverUrl}/v1/ping`).catch(() => ({ status: 0 }))).status === 200) break;
        if (i > 150) throw new Error(`server did not start: ${fs.readFileSync(path.join(tmp, "server.log"), "utf8")}`);
        await new Promise((r) => setTimeout(r, 200));
    }
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
    server?.kill("SIGINT");
    fs.rmSync(tmp, { recursive: true, force: true });
});

describe("runtime: remote, against a server started outside the stack", () => {
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
