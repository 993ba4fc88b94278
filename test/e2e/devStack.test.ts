import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AtlasOutput, atlasOutputSchema } from "../../infra/contract/atlas";
import { gitDirty, isolatedDevConfig, makeCheckout, setStackConfig } from "../../ops/checkout";
import { alive, freePort, listening } from "../../ops/ports";
import { changed, lastChanges, previewChanges, pulumi, pulumiOk, run, stackOutputs } from "../../ops/pulumi";
import { callReducer, mintIdentity, request, sqlRows } from "../support/http";
import { runSdkClient } from "../support/sdk";

/**
 * The dev stack as a user brings it up: `bash scripts/dev.sh` (the README's main command) and then
 * the plain `pulumi` CLI, in a checkout of this project with its own file backend and ports — the
 * Node language host runs infra/index.ts, our policy pack runs on every preview and up, a real
 * SpacetimeDB 1.2 server, a real wasm build, Caddy with its own CA. Steps share the stack, in order.
 */
const STACK = "dev";
let tmp: string;
let checkout: string;
let stateDir: string;
let env: Record<string, string>;
let serverPort: number;
let tlsPort: number;
let atlas: AtlasOutput;
let token: string;
let serverUrl: string;
let ca: string;
let firstSha: string;

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
const PROBE_BREAKING = PROBE_V1.replace("pub note: String,", "pub note: String,\n    pub extra: u32,").replace("E2eProbe { id, note }", "E2eProbe { id, note, extra: 0 }");

let originalLib: string;
const libRs = () => path.join(checkout, "module", "src", "lib.rs");
const setProbe = (source: string) => fs.writeFileSync(libRs(), originalLib + source);

const echo = (s: string) => process.stderr.write(s);
const cli = (args: string[]) => pulumiOk(args, { cwd: checkout, env, echo });
const pack = () => ["--policy-pack", path.join(checkout, "policy", "pack")];

/** `pulumi up -s dev --yes --policy-pack …`, then the outputs as Atlas and admin tooling read them. */
async function up(): Promise<Record<string, number>> {
    const r = await cli(["up", "-s", STACK, "--yes", ...pack()]);
    expect(r.stdout).toContain("inner-universe@v0.1.0");
    await readOutputs();
    return lastChanges(STACK, { cwd: checkout, env });
}

async function readOutputs(): Promise<void> {
    const outputs = await stackOutputs(STACK, { cwd: checkout, env, showSecrets: true });
    atlas = atlasOutputSchema.parse(outputs.atlas);
    token = outputs.deployerToken as string;
    ca = path.resolve(checkout, atlas.tls.caCertPath!);
}

const pidFile = () => path.join(stateDir, STACK, "stdb.pid");
const caddyPidFile = () => path.join(stateDir, STACK, "caddy.pid");
const readPid = (f: string) => Number(fs.readFileSync(f, "utf8").trim());
const stateFile = () => path.join(tmp, "backend", ".pulumi", "stacks", "inner-universe", `${STACK}.json`);

beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "iu-dev-"));
    stateDir = path.join(tmp, "state");
    serverPort = await freePort();
    tlsPort = await freePort();
    serverUrl = `http://127.0.0.1:${serverPort}`;
    checkout = makeCheckout(path.join(tmp, "checkout"), {
        devConfig: isolatedDevConfig({ stateDir, serverPort, tlsPort }),
    });
    originalLib = fs.readFileSync(libRs(), "utf8");
    fs.mkdirSync(path.join(tmp, "backend"));
    fs.writeFileSync(path.join(tmp, "passphrase"), "e2e-dev-passphrase", { mode: 0o600 });
    env = { PULUMI_BACKEND_URL: `file://${path.join(tmp, "backend")}`, PULUMI_CONFIG_PASSPHRASE_FILE: path.join(tmp, "passphrase") };
});

afterAll(async () => {
    // Whatever happened above, leave no process behind.
    try {
        await pulumi(["destroy", "-s", STACK, "--yes"], { cwd: checkout, env, echo });
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
});

describe("dev stack on the real engine", () => {
    it("`bash scripts/dev.sh` creates the stack through the CLI and leaves the git tree clean", async () => {
        const r = await run("bash", ["scripts/dev.sh", "up"], { cwd: checkout, env, echo });
        expect(r.code).toBe(0);
        // What ran is the CLI with the Node language host and our policy pack, not an inline program.
        expect(r.stdout).toMatch(/Policies:[\s\S]*inner-universe@v0\.1\.0/);
        expect(r.stdout).toContain("atlas outputs:");
        expect(changed(await lastChanges(STACK, { cwd: checkout, env }))).toEqual(["create"]);
        // No salt, secret or stack file written into committed files.
        expect(gitDirty(checkout)).toBe("");
        await readOutputs();
        firstSha = atlas.module.sha256;
    });

    it("the outputs satisfy the contract, /v1/ping answers through TLS, state names no checkout path", async () => {
        expect(atlas).toMatchObject({
            runtime: "local",
            stack: STACK,
            http: { url: `https://127.0.0.1:${tlsPort}` },
            ws: { url: `wss://127.0.0.1:${tlsPort}` },
            tls: { enabled: true },
            server: { version: "1.2.0" },
        });
        expect(JSON.stringify(atlas)).not.toContain(token);
        // The token exists in state only encrypted. Read the backend's file itself.
        const state = fs.readFileSync(stateFile(), "utf8");
        expect(state).not.toContain(token.split(".")[1]);
        expect(state.match(/"ciphertext"/g)?.length ?? 0).toBeGreaterThanOrEqual(3);
        // Any checkout can manage the stack: nothing in state names this one.
        expect(state).not.toContain(checkout);
        expect(fs.readFileSync(ca, "utf8")).toContain("BEGIN CERTIFICATE");
        expect((await request("GET", `${atlas.http.url}/v1/ping`, { ca })).status).toBe(200);
        // Without the stack's CA the certificate is not trusted: TLS is real, not a pass-through.
        await expect(request("GET", `${atlas.http.url}/v1/ping`)).rejects.toThrow(/certificate|self-signed|issuer/i);
    });

    it("the proxy enforces the public route matrix", async () => {
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
            caCert: ca,
            schemaUri: serverUrl,
        });
        expect(out.status).toBe("committed");
        expect(out.identity).toBe(atlas.deployer.identity);
        expect(out.configRows?.map((r) => r.key)).toEqual(expect.arrayContaining(["module_config", "e2e_marker", "e2e_sdk"]));
    });

    it("a non-admin identity is refused by admin reducers; nothing changes", async () => {
        const stranger = await mintIdentity(atlas.http.url, ca);
        const viaSdk = await runSdkClient({
            uri: atlas.ws.url,
            db: "inner-universe",
            token: stranger.token,
            call: "set_config",
            args: ["e2e_marker", "overwritten"],
            caCert: ca,
            schemaUri: serverUrl,
        });
        expect(viaSdk.status).toBe("failed");
        expect(viaSdk.error).toMatch(/admin/i);
        const viaHttp = await callReducer(serverUrl, "inner-universe", "grant_admin", [stranger.identity], stranger.token);
        expect(viaHttp.status).toBe(530);
        const marker = await sqlRows(serverUrl, "inner-universe", "SELECT * FROM config WHERE key = 'e2e_marker'", token);
        expect(JSON.stringify(marker)).toContain("kept-across-publishes");
    });

    it("a second `pulumi up` changes nothing and neither rebuilds nor republishes; refresh finds nothing", async () => {
        const artifact = path.join(stateDir, "artifacts");
        const before = fs.readdirSync(artifact).map((f) => fs.statSync(path.join(artifact, f)).mtimeMs);
        const pid = readPid(pidFile());
        expect(changed(await up())).toEqual([]);
        await cli(["refresh", "-s", STACK, "--yes"]);
        expect(changed(await lastChanges(STACK, { cwd: checkout, env }))).toEqual([]);
        expect(fs.readdirSync(artifact).map((f) => fs.statSync(path.join(artifact, f)).mtimeMs)).toEqual(before);
        expect(readPid(pidFile())).toBe(pid);
    });

    it("a module that adds a table: preview shows the migration plan (accepted), up publishes in place; rows survive", async () => {
        const pid = readPid(pidFile());
        const identity = atlas.deployer.identity;
        const oldSha = atlas.module.sha256;
        setProbe(PROBE_V1);
        // The build runs during preview, so the plan is there before anything is published.
        const preview = await cli(["preview", "-s", STACK, "--diff", ...pack()]);
        expect(preview.stdout).toMatch(/table e2e_probe added[^\n]*— accepted/);
        expect(preview.stdout).toContain("SpacetimeDB 1.2 automatic migration: accepted");
        expect(preview.stdout).toContain("delete_data = never: the database is migrated in place; all rows are kept");
        expect(atlas.module.sha256).toBe(oldSha);
        const res = await up();
        expect(atlas.module.sha256).not.toBe(oldSha);
        expect(readPid(pidFile())).toBe(pid);
        expect(atlas.deployer.identity).toBe(identity);
        // The database is published in place (an update of the Database resource: same database,
        // same identity); nothing is created or replaced.
        expect(res.update ?? 0).toBeGreaterThanOrEqual(1);
        expect(res.replace ?? 0).toBe(0);
        expect(res.create ?? 0).toBe(0);
        const marker = await sqlRows(serverUrl, "inner-universe", "SELECT * FROM config WHERE key = 'e2e_marker'", token);
        expect(JSON.stringify(marker)).toContain("kept-across-publishes");
        expect((await callReducer(serverUrl, "inner-universe", "e2e_probe_put", [1, "from-v1"], token)).status).toBe(200);
    });

    it("a module that changes a column: preview and up fail under delete_data=never with the plan, before publishing; on_conflict says the data goes", async () => {
        const servingSha = atlas.module.sha256;
        setProbe(PROBE_BREAKING);
        for (const args of [
            ["preview", "-s", STACK, "--diff", ...pack()],
            ["up", "-s", STACK, "--yes", ...pack()],
        ]) {
            const failed = await pulumi(args, { cwd: checkout, env, echo });
            expect(failed.code).not.toBe(0);
            const text = failed.stdout + failed.stderr;
            expect(text).toContain("the new module cannot be published to inner-universe without losing data; nothing was published");
            expect(text).toMatch(/column e2e_probe\.extra added[^\n]*— refused: adding a column requires a manual migration/);
            // Refused by our check, not by the server: no publish reached it.
            expect(text).not.toMatch(/update rejected/i);
        }
        const outputs = await stackOutputs(STACK, { cwd: checkout, env });
        expect((outputs.atlas as AtlasOutput).module.sha256).toBe(servingSha);
        expect((await callReducer(serverUrl, "inner-universe", "e2e_probe_put", [2, "still-v1"], token)).status).toBe(200);
        expect(await sqlRows(serverUrl, "inner-universe", "SELECT * FROM e2e_probe", token)).toHaveLength(2);

        setStackConfig(checkout, STACK, { spacetimedb: { publish: { delete_data: "on_conflict" } } });
        const clearing = await cli(["preview", "-s", STACK, "--diff", ...pack()]);
        expect(clearing.stdout).toContain("delete_data = on_conflict: the database will be cleared: every row in every table is deleted");
        setStackConfig(checkout, STACK, { spacetimedb: { publish: { delete_data: "never" } } });

        setProbe(PROBE_V1);
        const res = await up();
        expect(atlas.module.sha256).toBe(servingSha);
        expect(changed(res)).toEqual([]);
    });

    it("kill -9 of the server is drift: preview shows it, up brings the server back with data intact", async () => {
        const pid = readPid(pidFile());
        const identityBefore = atlas.deployer.identity;
        process.kill(pid, "SIGKILL");
        await waitFor(() => !alive(pid));
        const preview = previewChanges((await cli(["preview", "-s", STACK, "--json", ...pack()])).stdout);
        expect(preview.update ?? 0).toBeGreaterThanOrEqual(1);
        expect(preview.replace ?? 0).toBe(0);
        await up();
        expect(atlas.deployer.identity).toBe(identityBefore);
        const newPid = readPid(pidFile());
        expect(newPid).not.toBe(pid);
        expect(alive(newPid)).toBe(true);
        expect(await sqlRows(serverUrl, "inner-universe", "SELECT * FROM e2e_probe", token)).toHaveLength(2);
        expect((await request("GET", `${atlas.http.url}/v1/ping`, { ca })).status).toBe(200);
        expect(changed(await up())).toEqual([]);
    });

    it("a module published by hand is drift: preview --refresh shows it, up restores the stack's module", async () => {
        const ours = atlas.module.sha256;
        // Another module from this checkout's artifacts (the first build, without e2e_probe), as
        // someone with the deployer token would publish it.
        const artifacts = path.join(stateDir, "artifacts");
        const other = fs
            .readdirSync(artifacts)
            .map((f) => path.join(artifacts, f))
            .find((f) => f.endsWith(".wasm") && sha256Of(f) === firstSha)!;
        expect(other).toBeDefined();
        const put = await fetch(`${serverUrl}/v1/database/inner-universe?clear=true`, {
            method: "PUT",
            headers: { authorization: `Bearer ${token}` },
            body: fs.readFileSync(other),
        });
        expect(put.status).toBe(200);
        const preview = previewChanges((await cli(["preview", "-s", STACK, "--refresh", "--json", ...pack()])).stdout);
        expect(preview.update ?? 0).toBeGreaterThanOrEqual(1);
        await cli(["refresh", "-s", STACK, "--yes"]);
        const refreshed = JSON.parse((await cli(["stack", "export", "-s", STACK])).stdout) as { deployment: { resources: { urn: string; outputs?: { sha256?: string } }[] } };
        expect(refreshed.deployment.resources.find((r) => r.urn.endsWith("::inner-universe-publish-wasm"))?.outputs?.sha256).toBe(firstSha);
        const res = await up();
        expect(res.update ?? 0).toBeGreaterThanOrEqual(1);
        expect(atlas.module.sha256).toBe(ours);
        await cli(["refresh", "-s", STACK, "--yes"]);
        expect(changed(await lastChanges(STACK, { cwd: checkout, env }))).toEqual([]);
        expect((await callReducer(serverUrl, "inner-universe", "e2e_probe_put", [3, "after-restore"], token)).status).toBe(200);
    });

    it("signing keys regenerated under the live stack: up and preview name the cause and the fix", async () => {
        const pid = readPid(pidFile());
        process.kill(pid, "SIGKILL");
        await waitFor(() => !alive(pid));
        const keys = path.join(stateDir, STACK, "stdb", "config");
        for (const f of fs.readdirSync(keys)) fs.rmSync(path.join(keys, f), { force: true });
        // The up restarts the server (new keys), then the identity check refuses to go on.
        const failed = await pulumi(["up", "-s", STACK, "--yes", ...pack()], { cwd: checkout, env, echo });
        expect(failed.code).not.toBe(0);
        const cause = new RegExp(`the server no longer accepts the deployer token: its JWT signing keys under ${keys.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} were regenerated`);
        expect(failed.stdout + failed.stderr).toMatch(cause);
        expect(failed.stdout + failed.stderr).toMatch(/pulumi up --replace urn:pulumi:dev::inner-universe::\S+::inner-universe-deployer-mint/);
        // A plain preview (the PR's): the identity is a pending update, and the message says why.
        const preview = await cli(["preview", "-s", STACK, "--json", ...pack()]);
        const steps = (JSON.parse(preview.stdout) as { steps: { op: string; urn: string }[] }).steps;
        expect(steps.find((st) => st.urn.endsWith("::inner-universe-deployer-mint"))?.op).toBe("update");
        expect(preview.stdout + preview.stderr).toMatch(cause);
    });

    it("destroy leaves no process, no listening port and no data directory", async () => {
        const pids = [readPid(pidFile()), readPid(caddyPidFile())];
        await cli(["destroy", "-s", STACK, "--yes"]);
        await waitFor(() => pids.every((p) => !alive(p)));
        expect(await listening(serverPort)).toBe(false);
        expect(await listening(tlsPort)).toBe(false);
        expect(fs.existsSync(path.join(stateDir, STACK))).toBe(false);
        const exported = JSON.parse((await cli(["stack", "export", "-s", STACK])).stdout) as { deployment: { resources?: unknown[] } };
        expect(exported.deployment.resources ?? []).toHaveLength(0);
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

const sha256Of = (f: string) => createHash("sha256").update(fs.readFileSync(f)).digest("hex");
