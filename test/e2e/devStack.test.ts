import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Stack, UpResult } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { atlasOutputSchema, type AtlasOutput } from "../../infra/contract/atlas";
import { callReducer, mintIdentity, request, sqlRows } from "./support/http";
import { runSdkClient } from "./support/sdk";
import { alive, copyModule, tempStack, freePort, listening, SHARED_WASM_TARGET, tempWorkspace, type TempWorkspace } from "../../scripts/lib/workspace";

/**
 * The dev stack, brought up for real: Pulumi engine (Automation API), our shell provider, a real
 * SpacetimeDB 1.2 server, a real wasm build of a copy of the module, Caddy with its own CA.
 * The steps share one stack and run in order.
 */
const STACK = "e2e";
let ws: TempWorkspace;
let stack: Stack;
let moduleDir: string;
let serverPort: number;
let tlsPort: number;
let atlas: AtlasOutput;
let token: string;
let serverUrl: string;

const PROBE_V1 = `
#[spacetimedb::table(name = e2e_probe, public)]
pub struct E2eProbe {
    #[primary_key]
    pub id: u64,
    pub note: String,
}

#[spacetimedb::reducer]
pub fn e2e_probe_put(ctx: &spacetimedb::ReducerContext, id: u64, note: String) -> Result<(), String> {
    use spacetimedb::Table;
    ctx.db.e2e_probe().insert(E2eProbe { id, note });
    Ok(())
}
`;
// SpacetimeDB 1.x cannot migrate a table that gains a column: the publish must be refused.
const PROBE_BREAKING = PROBE_V1.replace("pub note: String,", "pub note: String,\n    pub extra: u32,").replace(
    "E2eProbe { id, note }",
    "E2eProbe { id, note, extra: 0 }",
);

let originalLib: string;
const setProbe = (source: string) => fs.writeFileSync(path.join(moduleDir, "src", "lib.rs"), originalLib + source);

async function up(): Promise<UpResult> {
    const res = await stack.up({ onOutput: (s) => process.stderr.write(s) });
    atlas = atlasOutputSchema.parse(res.outputs.atlas!.value);
    token = res.outputs.deployerToken!.value as string;
    return res;
}

const changed = (res: UpResult) =>
    Object.entries(res.summary.resourceChanges ?? {})
        .filter(([op, n]) => op !== "same" && (n ?? 0) > 0)
        .map(([op]) => op);

const pidFile = () => path.join(ws.stateDir, STACK, "stdb.pid");
const caddyPidFile = () => path.join(ws.stateDir, STACK, "caddy.pid");
const readPid = (f: string) => Number(fs.readFileSync(f, "utf8").trim());

beforeAll(async () => {
    ws = tempWorkspace("dev");
    moduleDir = copyModule(path.join(ws.dir, "module"));
    originalLib = fs.readFileSync(path.join(moduleDir, "src", "lib.rs"), "utf8");
    serverPort = await freePort();
    tlsPort = await freePort();
    serverUrl = `http://127.0.0.1:${serverPort}`;
    stack = await tempStack(ws, STACK, {
        runtime: "local",
        spacetimedb: { port: serverPort, ready_timeout_s: 120 },
        tls: { port: tlsPort },
        local: { state_dir: ws.stateDir },
        module: { dir: moduleDir, target_dir: SHARED_WASM_TARGET },
        protect: { data: false, delete_data_on_destroy: true },
    });
});

afterAll(async () => {
    // Whatever happened above, leave no process behind.
    try {
        await stack?.destroy();
        await stack?.workspace.removeStack(STACK);
    } finally {
        ws?.cleanup();
    }
});

describe("dev stack on the real engine", () => {
    it("a fresh up succeeds, the outputs satisfy the contract, /v1/ping answers through TLS", async () => {
        const res = await up();
        expect(changed(res)).toEqual(["create"]);
        expect(atlas).toMatchObject({
            runtime: "local",
            stack: STACK,
            http: { url: `https://127.0.0.1:${tlsPort}` },
            ws: { url: `wss://127.0.0.1:${tlsPort}` },
            tls: { enabled: true },
            server: { version: "1.2.0" },
        });
        expect(JSON.stringify(atlas)).not.toContain(token);
        // The token exists in state only encrypted (mint output, publish/settings/readiness inputs).
        // Read the backend's file itself: the Automation API's exportStack decrypts secrets.
        const stateFile = path.join(ws.backendUrl.replace("file://", ""), ".pulumi", "stacks", "inner-universe", `${STACK}.json`);
        const state = fs.readFileSync(stateFile, "utf8");
        expect(state).not.toContain(token.split(".")[1]);
        expect(state.match(/"ciphertext"/g)?.length ?? 0).toBeGreaterThanOrEqual(4);
        const ca = atlas.tls.caCertPath!;
        expect(fs.readFileSync(ca, "utf8")).toContain("BEGIN CERTIFICATE");
        expect((await request("GET", `${atlas.http.url}/v1/ping`, { ca })).status).toBe(200);
        // Without the stack's CA the certificate is not trusted: TLS is real, not a pass-through.
        await expect(request("GET", `${atlas.http.url}/v1/ping`)).rejects.toThrow(/certificate|self-signed|issuer/i);
    });

    it("the proxy enforces the public route matrix", async () => {
        const ca = atlas.tls.caCertPath!;
        const via = (m: string, p: string, o: { token?: string; body?: string } = {}) => request(m, `${atlas.http.url}${p}`, { ca, ...o });
        expect((await via("GET", "/v1/metrics")).status).toBe(404);
        expect((await via("GET", "/internal/database")).status).toBe(404);
        expect((await via("PUT", "/v1/database/inner-universe", { token, body: "x" })).status).toBe(404);
        expect((await via("POST", "/v1/database/inner-universe/sql", { token, body: "SELECT * FROM config" })).status).toBe(404);
        expect((await via("GET", "/v1/database/inner-universe/subscribe")).status).toBe(401);
        expect((await via("POST", "/v1/identity")).status).toBe(200);
        // The server itself still serves metrics on loopback, for the operator.
        expect((await request("GET", `${serverUrl}/v1/metrics`)).status).toBe(200);
    });

    it("the module initialised: config row and SYSTEM_INITIALIZED event readable over SQL", async () => {
        const config = await sqlRows(serverUrl, "inner-universe", "SELECT * FROM config WHERE key = 'module_config'", token);
        expect(config).toHaveLength(1);
        const flags = await sqlRows(serverUrl, "inner-universe", "SELECT * FROM config WHERE key = 'feature_flags'", token);
        expect(JSON.stringify(flags)).toContain("enable_state_versioning");
        const events = await sqlRows(serverUrl, "inner-universe", "SELECT * FROM event_log WHERE event_type = 'SYSTEM_INITIALIZED'", token);
        expect(events).toHaveLength(1);
        // A row later steps check survives republishes and restarts.
        expect((await callReducer(serverUrl, "inner-universe", "set_config", ["e2e_marker", "kept-across-publishes"], token)).status).toBe(200);
    });

    it("a real SDK client (TypeScript, over wss through the proxy) calls a reducer as the deployer", async () => {
        const out = await runSdkClient({
            uri: atlas.ws.url,
            db: "inner-universe",
            token,
            call: "set_config",
            args: ["e2e_sdk", "written-through-the-sdk"],
            read: "config",
            caCert: atlas.tls.caCertPath!,
            schemaUri: serverUrl,
        });
        expect(out.status).toBe("committed");
        expect(out.identity).toBe(atlas.deployer.identity);
        expect(out.configRows?.map((r) => r.key)).toEqual(expect.arrayContaining(["module_config", "e2e_marker", "e2e_sdk"]));
    });

    it("a non-admin identity is refused by admin reducers; nothing changes", async () => {
        const stranger = await mintIdentity(atlas.http.url, atlas.tls.caCertPath!);
        const viaSdk = await runSdkClient({
            uri: atlas.ws.url,
            db: "inner-universe",
            token: stranger.token,
            call: "set_config",
            args: ["e2e_marker", "overwritten"],
            caCert: atlas.tls.caCertPath!,
            schemaUri: serverUrl,
        });
        expect(viaSdk.status).toBe("failed");
        expect(viaSdk.error).toMatch(/admin/i);
        const viaHttp = await callReducer(serverUrl, "inner-universe", "grant_admin", [stranger.identity], stranger.token);
        expect(viaHttp.status).toBe(530);
        const marker = await sqlRows(serverUrl, "inner-universe", "SELECT * FROM config WHERE key = 'e2e_marker'", token);
        expect(JSON.stringify(marker)).toContain("kept-across-publishes");
    });

    it("a second up changes nothing and neither rebuilds nor republishes", async () => {
        const artifact = path.join(ws.stateDir, "artifacts");
        const before = fs.readdirSync(artifact).map((f) => fs.statSync(path.join(artifact, f)).mtimeMs);
        const pid = readPid(pidFile());
        const res = await up();
        expect(changed(res)).toEqual([]);
        expect(fs.readdirSync(artifact).map((f) => fs.statSync(path.join(artifact, f)).mtimeMs)).toEqual(before);
        expect(readPid(pidFile())).toBe(pid);
    });

    it("a module source change rebuilds and republishes only the module; rows survive", async () => {
        const pid = readPid(pidFile());
        const identity = atlas.deployer.identity;
        const oldSha = atlas.module.sha256;
        setProbe(PROBE_V1);
        const res = await up();
        expect(atlas.module.sha256).not.toBe(oldSha);
        expect(readPid(pidFile())).toBe(pid);
        expect(atlas.deployer.identity).toBe(identity);
        expect(res.summary.resourceChanges?.replace ?? 0).toBeGreaterThanOrEqual(2);
        expect(res.summary.resourceChanges?.create ?? 0).toBe(0);
        const marker = await sqlRows(serverUrl, "inner-universe", "SELECT * FROM config WHERE key = 'e2e_marker'", token);
        expect(JSON.stringify(marker)).toContain("kept-across-publishes");
        expect((await callReducer(serverUrl, "inner-universe", "e2e_probe_put", [1, "from-v1"], token)).status).toBe(200);
    });

    it("a module that fails to publish fails the up, and the previous module keeps serving", async () => {
        const servingSha = atlas.module.sha256;
        setProbe(PROBE_BREAKING);
        await expect(stack.up({ onOutput: (s) => process.stderr.write(s) })).rejects.toThrow(/publish of inner-universe failed|update rejected/i);
        const outputs = await stack.outputs();
        expect((outputs.atlas!.value as AtlasOutput).module.sha256).toBe(servingSha);
        expect((await callReducer(serverUrl, "inner-universe", "e2e_probe_put", [2, "still-v1"], token)).status).toBe(200);
        expect(await sqlRows(serverUrl, "inner-universe", "SELECT * FROM e2e_probe", token)).toHaveLength(2);
        setProbe(PROBE_V1);
        const res = await up();
        expect(atlas.module.sha256).toBe(servingSha);
        expect(res.summary.resourceChanges?.replace ?? 0).toBeLessThanOrEqual(1);
    });

    it("kill -9 of the server is drift: preview shows it, up brings the server back with data intact", async () => {
        const pid = readPid(pidFile());
        const identityBefore = atlas.deployer.identity;
        process.kill(pid, "SIGKILL");
        await waitFor(() => !alive(pid));
        const preview = await stack.preview();
        expect(preview.changeSummary.update ?? 0).toBeGreaterThanOrEqual(1);
        expect(preview.changeSummary.replace ?? 0).toBe(0);
        await up();
        expect(atlas.deployer.identity).toBe(identityBefore);
        const newPid = readPid(pidFile());
        expect(newPid).not.toBe(pid);
        expect(alive(newPid)).toBe(true);
        expect(await sqlRows(serverUrl, "inner-universe", "SELECT * FROM e2e_probe", token)).toHaveLength(2);
        expect((await request("GET", `${atlas.http.url}/v1/ping`, { ca: atlas.tls.caCertPath! })).status).toBe(200);
        const settled = await up();
        expect(changed(settled)).toEqual([]);
    });

    it("destroy leaves no process, no listening port and no data directory", async () => {
        const pids = [readPid(pidFile()), readPid(caddyPidFile())];
        await stack.destroy({ onOutput: (s) => process.stderr.write(s) });
        await waitFor(() => pids.every((p) => !alive(p)));
        expect(await listening(serverPort)).toBe(false);
        expect(await listening(tlsPort)).toBe(false);
        expect(fs.existsSync(path.join(ws.stateDir, STACK))).toBe(false);
        const deployment = await stack.exportStack();
        expect(deployment.deployment.resources ?? []).toHaveLength(0);
        expect(spawnSync("pgrep", ["-f", `127.0.0.1:${serverPort}`], { encoding: "utf8" }).stdout.trim()).toBe("");
    });
});

async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
        if (Date.now() > deadline) throw new Error("condition not met in time");
        await new Promise((r) => setTimeout(r, 100));
    }
}
