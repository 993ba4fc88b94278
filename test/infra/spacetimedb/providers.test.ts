import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as database from "../../../infra/spacetimedb/database-impl.ts";
import { getWithCa, send } from "../../../infra/spacetimedb/http-impl.ts";
import * as identity from "../../../infra/spacetimedb/identity-impl.ts";
import * as settings from "../../../infra/spacetimedb/moduleSettings-impl.ts";
import * as readiness from "../../../infra/spacetimedb/readiness-impl.ts";
import { freePort } from "../../../ops/ports";
import { PROJECT_ROOT_FOR_TESTS as ROOT } from "../../support/paths";
import { type Standalone, standaloneBinary, startStandalone } from "../../support/standalone";

const HEX = "c200df8beec39927c2f88e780e5d5aeae6150eb2e121a7c9ca12822edf8597fa";
const DB_HEX = "c200378d487761055fde18c1a045ee4207228dda92764a6fc47470a01e78ec04";
const TOKEN = `eyJ0eXAiOiJKV1QifQ.${Buffer.from(JSON.stringify({ hex_identity: HEX })).toString("base64url")}.c2lnbmF0dXJl`;
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "iu-stdb-"));

// ── a node:http stand-in for the SpacetimeDB HTTP API ───────────────────────────────────

interface Seen {
    method: string;
    url: string;
    authorization: string | undefined;
    contentType: string | undefined;
    body: Buffer;
}
type Handler = (req: Seen) => { status: number; body?: string };

async function standIn() {
    const seen: Seen[] = [];
    let handler: Handler = () => ({ status: 404 });
    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const r: Seen = {
                method: req.method ?? "",
                url: req.url ?? "",
                authorization: req.headers.authorization,
                contentType: req.headers["content-type"],
                body: Buffer.concat(chunks),
            };
            seen.push(r);
            const out = handler(r);
            res.writeHead(out.status, { "content-type": "text/plain" }).end(out.body ?? "");
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    return {
        url,
        seen,
        answer: (h: Handler) => {
            handler = h;
            seen.length = 0;
        },
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}

const success = (op = "created") => JSON.stringify({ Success: { domain: "db", database_identity: DB_HEX, op } });
const rows = (n: number) => JSON.stringify([{ schema: { elements: [] }, rows: Array.from({ length: n }, () => ["x"]) }]);

describe("SpacetimeDB providers against a node:http stand-in server", () => {
    let api: Awaited<ReturnType<typeof standIn>>;
    let wasmPath: string;
    const wasm = Buffer.from("0061736d0100000001", "hex");
    const wasmSha = createHash("sha256").update(wasm).digest("hex");
    beforeAll(async () => {
        api = await standIn();
        wasmPath = path.join(tmp(), "m.wasm");
        fs.writeFileSync(wasmPath, wasm);
    });
    afterAll(() => api.close());
    const dbInputs = (deleteData: "never" | "on_conflict" | "always") => ({
        serverUrl: api.url,
        database: "db",
        wasmPath,
        wasmSha256: wasmSha,
        token: TOKEN,
        deleteData,
        timeoutMs: 5000,
    });

    it("Identity: create retries POST /v1/identity until the stand-in answers 200", async () => {
        let calls = 0;
        api.answer(() => (++calls < 3 ? { status: 503, body: "starting" } : { status: 200, body: JSON.stringify({ identity: HEX, token: TOKEN }) }));
        const made = await identity.create({ serverUrl: api.url, scope: "local:.iu/x", readyTimeoutSeconds: 10, timeoutMs: 1000 });
        expect(made).toEqual({ id: HEX, outs: { serverUrl: api.url, scope: "local:.iu/x", identity: HEX, token: TOKEN, tokenAccepted: true } });
        expect(api.seen.map((r) => `${r.method} ${r.url}`)).toEqual(Array(3).fill("POST /v1/identity"));
    });

    it("Identity: create gives up after the ready timeout, naming the last answer", async () => {
        api.answer(() => ({ status: 503, body: "still starting" }));
        await expect(identity.create({ serverUrl: api.url, scope: "s", readyTimeoutSeconds: 1, timeoutMs: 500 })).rejects.toThrow(
            "POST /v1/identity did not answer 200 within 1s: POST /v1/identity answered HTTP 503: still starting",
        );
    });

    it("Identity: diff and read ask GET /v1/identity/<id>/verify with the token; a 401 is drift, and update names cause and fix", async () => {
        const outs = { serverUrl: api.url, scope: "local:.iu/dev/stdb", identity: HEX, token: TOKEN, tokenAccepted: true, selfUrn: "urn:pulumi:dev::p::t::n" };
        const news = { serverUrl: api.url, scope: outs.scope, readyTimeoutSeconds: 2, timeoutMs: 1000, selfUrn: outs.selfUrn };
        api.answer(() => ({ status: 204 }));
        expect(await identity.diff(HEX, outs, news)).toMatchObject({ changes: false, replaces: [] });
        expect(api.seen[0]).toMatchObject({ method: "GET", url: `/v1/identity/${HEX}/verify`, authorization: `Bearer ${TOKEN}` });
        api.answer(() => ({ status: 401, body: "TokenError(Error(InvalidSignature))" }));
        expect(await identity.diff(HEX, outs, news)).toMatchObject({ changes: true, replaces: [] });
        expect((await identity.read(HEX, outs)).props.tokenAccepted).toBe(false);
        const failure = identity.update(HEX, outs, news);
        await expect(failure).rejects.toThrow(
            /JWT signing keys under \.iu\/dev\/stdb\/config were regenerated \(GET \/v1\/identity\/[0-9a-f]{64}\/verify answered HTTP 401: TokenError\(Error\(InvalidSignature\)\)\); restore them or `pulumi up --replace urn:pulumi:dev::p::t::n`/,
        );
        await expect(failure).rejects.not.toThrow(TOKEN);
    });

    it("Identity: a new scope is a replacement, without asking the server", async () => {
        api.answer(() => ({ status: 204 }));
        const outs = { serverUrl: api.url, scope: "vol-1", identity: HEX, token: TOKEN, tokenAccepted: true };
        expect(await identity.diff(HEX, outs, { serverUrl: api.url, scope: "vol-2", readyTimeoutSeconds: 1, timeoutMs: 1000 })).toMatchObject({
            changes: true,
            replaces: ["scope"],
        });
        expect(api.seen).toEqual([]);
    });

    it("Database: publishes the wasm bytes with the token; delete_data=never keeps data and fails on a rejected migration", async () => {
        api.answer(() => ({ status: 200, body: success() }));
        const made = await database.create(dbInputs("never"));
        expect(made.id).toBe("db");
        expect(made.outs).toMatchObject({ databaseIdentity: DB_HEX, op: "created", sha256: wasmSha, cleared: false, serverUrl: api.url, database: "db" });
        expect(made.outs.revision).toMatch(new RegExp(`^${wasmSha}@`));
        expect(JSON.stringify(made.outs)).not.toContain(TOKEN);
        expect(api.seen).toHaveLength(1);
        expect(api.seen[0]).toMatchObject({ method: "PUT", url: "/v1/database/db?clear=false", authorization: `Bearer ${TOKEN}`, contentType: "application/wasm" });
        expect(api.seen[0]!.body.equals(wasm)).toBe(true);

        api.answer(() => ({ status: 400, body: "Database update rejected: Errors occurred:\nAdding a column extra to table version_counter requires a manual migration" }));
        const failed = database.update("db", made.outs, dbInputs("never"));
        await expect(failed).rejects.toThrow(
            /publish of db failed: PUT \/v1\/database\/db\?clear=false answered HTTP 400: Database update rejected: .*\n[\s\S]*hint: .*delete_data to on_conflict/,
        );
        await expect(failed).rejects.not.toThrow(TOKEN);
        expect(api.seen.map((r) => r.url)).toEqual(["/v1/database/db?clear=false"]);
    });

    it("Database: delete_data=on_conflict retries with clear=true only after a 400 'update rejected'", async () => {
        api.answer((r) => (r.url.endsWith("clear=false") ? { status: 400, body: "Database update rejected: Errors occurred: …" } : { status: 200, body: success("updated") }));
        const cleared = await database.create(dbInputs("on_conflict"));
        expect(api.seen.map((r) => r.url)).toEqual(["/v1/database/db?clear=false", "/v1/database/db?clear=true"]);
        expect(cleared.outs).toMatchObject({ cleared: true, op: "updated" });

        api.answer(() => ({ status: 400, body: "Failed to create or update the database: Removing schedules is not yet implemented" }));
        await expect(database.create(dbInputs("on_conflict"))).rejects.toThrow(/answered HTTP 400: Failed to create or update the database/);
        expect(api.seen).toHaveLength(1);
    });

    it("Database: delete_data=always publishes with clear=true at once", async () => {
        api.answer(() => ({ status: 200, body: success("updated") }));
        expect((await database.create(dbInputs("always"))).outs.cleared).toBe(true);
        expect(api.seen.map((r) => r.url)).toEqual(["/v1/database/db?clear=true"]);
    });

    it("Database: refuses an artifact that changed since it was built, before calling the server", async () => {
        api.answer(() => ({ status: 200, body: success() }));
        await expect(database.create({ ...dbInputs("never"), wasmSha256: "0".repeat(64) })).rejects.toThrow(/changed since it was built/);
        await expect(database.create({ ...dbInputs("never"), wasmPath: path.join(tmp(), "gone.wasm") })).rejects.toThrow(/module artifact missing/);
        expect(api.seen).toEqual([]);
    });

    it("Database: refresh reads identity, owner and the running module; a missing database leaves the state", async () => {
        const running = Buffer.from("0061736d01000000ff", "hex");
        api.answer((r) => {
            if (r.method === "GET" && r.url === "/v1/database/db") {
                return {
                    status: 200,
                    body: JSON.stringify({
                        database_identity: { __identity__: `0x${DB_HEX}` },
                        owner_identity: { __identity__: `0x${HEX}` },
                        host_type: { Wasm: [] },
                        initial_program: "0x00",
                    }),
                };
            }
            if (r.url === "/v1/database/db/sql") return { status: 200, body: JSON.stringify([{ rows: [[`0x${"ab".repeat(32)}`, running.toString("hex")]] }]) };
            return { status: 404 };
        });
        const state = { serverUrl: api.url, database: "db", sha256: wasmSha, databaseIdentity: DB_HEX, op: "created", cleared: false, revision: "r" };
        const seen = await database.read("db", state);
        expect(seen.props).toMatchObject({
            databaseIdentity: DB_HEX,
            ownerIdentity: HEX,
            programHash: "ab".repeat(32),
            sha256: createHash("sha256").update(running).digest("hex"),
        });
        expect(api.seen.find((r) => r.url.endsWith("/sql"))!.body.toString()).toBe("SELECT program_hash, program_bytes FROM st_module");
        expect(database.databaseDiff(seen.props, dbInputs("never")).diffs).toEqual(["wasmSha256"]);

        api.answer(() => ({ status: 404 }));
        expect(await database.read("db", state)).toEqual({ id: "", props: {} });
    });

    it("ModuleSettings: one set_config call per key; a reducer error names the key, route, status and body", async () => {
        api.answer(() => ({ status: 200 }));
        const inputs = {
            serverUrl: api.url,
            database: "db",
            token: TOKEN,
            settingsJson: JSON.stringify({ server_config: { a: 1 }, feature_flags: { enable_metrics: true } }),
            publishRevision: "r1",
            timeoutMs: 1000,
        };
        const made = await settings.create(inputs);
        expect(made.outs.keys).toEqual(["feature_flags", "server_config"]);
        expect(api.seen.map((r) => [r.method, r.url, r.contentType, r.authorization, JSON.parse(r.body.toString())])).toEqual([
            ["POST", "/v1/database/db/call/set_config", "application/json", `Bearer ${TOKEN}`, ["feature_flags", '{"enable_metrics":true}']],
            ["POST", "/v1/database/db/call/set_config", "application/json", `Bearer ${TOKEN}`, ["server_config", '{"a":1}']],
        ]);
        api.answer(() => ({ status: 530, body: 'value: unknown feature flag "a"' }));
        await expect(settings.update("db", made.outs, inputs)).rejects.toThrow(
            'set_config(feature_flags) failed: POST /v1/database/db/call/set_config answered HTTP 530: value: unknown feature flag "a"',
        );
    });

    it("Readiness: waits for ping and both rows; its diff re-probes for 5 s and reports a dead database as a change", async () => {
        let round = 0;
        api.answer((r) => {
            if (r.url === "/v1/ping") return { status: ++round < 2 ? 503 : 200 };
            expect(r).toMatchObject({ method: "POST", contentType: "text/plain", authorization: `Bearer ${TOKEN}` });
            return { status: 200, body: rows(1) };
        });
        const inputs = { serverUrl: api.url, database: "db", token: TOKEN, revision: "r1", timeoutSeconds: 10, timeoutMs: 1000 };
        const made = await readiness.create(inputs);
        expect(JSON.parse(made.outs.report)).toEqual({ ready: true, configRows: 1, initEvents: 1 });
        expect(api.seen.filter((r) => r.url.endsWith("/sql")).map((r) => r.body.toString())).toEqual([
            "SELECT * FROM config WHERE key = 'module_config'",
            "SELECT * FROM event_log WHERE event_type = 'SYSTEM_INITIALIZED'",
        ]);
        expect(await readiness.diff("db", made.outs, inputs)).toEqual({ changes: false, replaces: [] });

        api.answer((r) => (r.url === "/v1/ping" ? { status: 200 } : { status: 200, body: rows(0) }));
        const started = Date.now();
        expect(await readiness.diff("db", made.outs, inputs)).toEqual({ changes: true, replaces: [] });
        expect(Date.now() - started).toBeLessThan(8000);
        await expect(readiness.update("db", made.outs, { ...inputs, timeoutSeconds: 1 })).rejects.toThrow(
            "database db not ready within 1s: module_config rows: 0, SYSTEM_INITIALIZED events: 0",
        );
    });

    it("a server that does not answer is named with method, route and address", async () => {
        const closed = await standIn();
        await closed.close();
        await expect(send(closed.url, { method: "GET", route: "/v1/ping" }, 1000)).rejects.toThrow(
            new RegExp(`^GET /v1/ping on ${closed.url} failed: fetch failed: .*ECONNREFUSED`),
        );
    });
});

// ── the public ping through a private CA (node:https with `ca`) ─────────────────────────

describe("public ping through a stand-in TLS server with a private CA", () => {
    let server: https.Server;
    let url: string;
    let caFile: string;
    beforeAll(async () => {
        if (spawnSync("openssl", ["version"]).status !== 0) throw new Error("openssl is not installed: run `bash toolchain/setup-tools.sh` (Debian package openssl)");
        const dir = tmp();
        const run = (...args: string[]) => {
            const r = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
            if (r.status !== 0) throw new Error(r.stderr);
        };
        run(
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=iu test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        );
        run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "srv.key", "-out", "srv.csr");
        fs.writeFileSync(path.join(dir, "ext.cnf"), "subjectAltName=IP:127.0.0.1\n");
        run("x509", "-req", "-in", "srv.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1", "-extfile", "ext.cnf", "-out", "srv.crt");
        caFile = path.join(dir, "ca.crt");
        server = https.createServer({ key: fs.readFileSync(path.join(dir, "srv.key")), cert: fs.readFileSync(path.join(dir, "srv.crt")) }, (req, res) =>
            res.writeHead(req.url === "/v1/ping" ? 200 : 404).end(),
        );
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        url = `https://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it("answers 200 when the CA file is given, and fails the TLS check without it", async () => {
        expect((await getWithCa(`${url}/v1/ping`, caFile, 2000)).status).toBe(200);
        await expect(getWithCa(`${url}/v1/ping`, undefined, 2000)).rejects.toThrow(/GET \/v1\/ping on https:\/\/127\.0\.0\.1:\d+ failed/);
    });

    it("with a relative CA path, read from the working directory (the project root for providers)", async () => {
        const rel = path.relative(process.cwd(), caFile);
        expect(path.isAbsolute(rel)).toBe(false);
        expect((await getWithCa(`${url}/v1/ping`, rel, 2000)).status).toBe(200);
    });
});

// ── the real spacetimedb-standalone 1.2.0 ───────────────────────────────────────────────

const FIXTURES = path.join(ROOT, "test", "fixtures", "spacetimedb");
const haveFixtures = fs.existsSync(path.join(FIXTURES, "module.wasm.gz")) && fs.existsSync(path.join(FIXTURES, "module-add-column.wasm.gz"));

describe("SpacetimeDB providers against the real spacetimedb-standalone 1.2.0", () => {
    let root: string;
    let url: string;
    let port: number;
    let server: Standalone | undefined;
    const wasmOf = (name: string) => {
        const file = path.join(root, name.replace(/\.gz$/, ""));
        fs.writeFileSync(file, gunzipSync(fs.readFileSync(path.join(FIXTURES, name))));
        return { file, sha256: createHash("sha256").update(fs.readFileSync(file)).digest("hex") };
    };
    const start = async () => {
        server = await startStandalone(root, port);
    };
    const stop = async () => {
        await server?.stop();
        server = undefined;
    };
    beforeAll(async () => {
        standaloneBinary();
        if (!haveFixtures) throw new Error(`module fixtures missing in ${FIXTURES} (see its README to rebuild them)`);
        root = tmp();
        fs.mkdirSync(path.join(root, "config"), { recursive: true });
        port = await freePort();
        url = `http://127.0.0.1:${port}`;
        await start();
    });
    afterAll(stop);

    let minted: Awaited<ReturnType<typeof identity.create>>;
    let published: Awaited<ReturnType<typeof database.create>>;
    const scope = () => `local:${root}`;
    const idInputs = () => ({ serverUrl: url, scope: scope(), readyTimeoutSeconds: 10, timeoutMs: 5000, selfUrn: "urn:pulumi:t::inner-universe::x::inner-universe-deployer-mint" });
    const dbInputs = (wasm: { file: string; sha256: string }, deleteData: "never" | "on_conflict" | "always" = "never") => ({
        serverUrl: url,
        database: "iu-provider-test",
        wasmPath: wasm.file,
        wasmSha256: wasm.sha256,
        token: minted.outs.token,
        deleteData,
        timeoutMs: 60_000,
    });

    it("mints an identity whose token GET /v1/identity/<id>/verify accepts (204)", async () => {
        minted = await identity.create(idInputs());
        expect(minted.outs.identity).toMatch(/^[0-9a-f]{64}$/);
        const verify = await send(url, { method: "GET", route: `/v1/identity/${minted.outs.identity}/verify`, token: minted.outs.token }, 5000);
        expect(verify.status).toBe(204);
        expect((await send(url, { method: "GET", route: `/v1/identity/${minted.outs.identity}/verify` }, 5000)).status).toBe(401);
        expect(await identity.diff(minted.id, minted.outs, idInputs())).toMatchObject({ changes: false });
        expect((await identity.read(minted.id, minted.outs)).props.tokenAccepted).toBe(true);
    });

    it("publishes the module (created, then updated), and refresh sees our sha256 running, owned by the deployer", async () => {
        const wasm = wasmOf("module.wasm.gz");
        published = await database.create(dbInputs(wasm));
        expect(published.outs).toMatchObject({ op: "created", sha256: wasm.sha256, cleared: false });
        expect((await database.update(published.id, published.outs, dbInputs(wasm))).outs.op).toBe("updated");
        const seen = await database.read(published.id, published.outs);
        expect(seen.props).toMatchObject({ databaseIdentity: published.outs.databaseIdentity, ownerIdentity: minted.outs.identity, sha256: wasm.sha256 });
        expect(database.databaseDiff(seen.props, dbInputs(wasm)).changes).toBe(false);
        expect(await database.read("nope", { ...published.outs, database: "iu-provider-test-missing" })).toEqual({ id: "", props: {} });
    });

    it("writes settings through set_config and is ready (module_config row, SYSTEM_INITIALIZED event)", async () => {
        const s = await settings.create({
            serverUrl: url,
            database: "iu-provider-test",
            token: minted.outs.token,
            settingsJson: JSON.stringify({ feature_flags: { enable_metrics: true } }),
            publishRevision: published.outs.revision,
            timeoutMs: 5000,
        });
        expect(s.outs.keys).toEqual(["feature_flags"]);
        await expect(
            settings.create({
                serverUrl: url,
                database: "iu-provider-test",
                token: minted.outs.token,
                settingsJson: JSON.stringify({ feature_flags: { nope: true } }),
                publishRevision: "r",
                timeoutMs: 5000,
            }),
        ).rejects.toThrow(/set_config\(feature_flags\) failed: POST \/v1\/database\/iu-provider-test\/call\/set_config answered HTTP 530: value: unknown feature flag "nope"/);
        const inputs = { serverUrl: url, database: "iu-provider-test", token: minted.outs.token, revision: s.outs.revision, timeoutSeconds: 20, timeoutMs: 5000 };
        const ready = await readiness.create(inputs);
        expect(JSON.parse(ready.outs.report)).toMatchObject({ ready: true });
        expect(await readiness.diff(ready.id, ready.outs, inputs)).toEqual({ changes: false, replaces: [] });
        expect(await readiness.diff(ready.id, { ...ready.outs, database: "iu-provider-test-missing" }, { ...inputs, database: "iu-provider-test-missing" })).toEqual({
            changes: true,
            replaces: [],
        });
    });

    it("check: the migration plan in the inputs; a refused migration under never fails before publishing; an unchanged wasm asks nothing", async () => {
        const base = wasmOf("module.wasm.gz");
        const olds = { ...dbInputs(base), migrationPlan: "earlier plan" };
        // Same wasm: the old plan is carried and the server is not asked (a stopped server would fail a request).
        expect(await database.check(olds, { ...dbInputs(base), serverUrl: url })).toEqual({ inputs: { ...dbInputs(base), migrationPlan: "earlier plan" } });
        const fresh = await database.check({}, { ...dbInputs(base), database: "iu-provider-test-new" });
        expect(fresh.failures).toBeUndefined();
        expect(fresh.inputs.migrationPlan).toMatch(/^new database: it will be created with \d+ tables and the init reducer runs\n/);

        const table = await database.check(olds, dbInputs(wasmOf("module-add-table.wasm.gz")));
        expect(table.failures).toBeUndefined();
        expect(table.inputs.migrationPlan!.split("\n")).toEqual(
            expect.arrayContaining([
                expect.stringMatching(/^table e2e_probe added .*— accepted$/),
                "SpacetimeDB 1.2 automatic migration: accepted",
                "delete_data = never: the database is migrated in place; all rows are kept",
            ]),
        );

        const column = wasmOf("module-add-column.wasm.gz");
        const refused = await database.check(olds, dbInputs(column, "never"));
        expect(refused.failures).toHaveLength(1);
        expect(refused.failures![0]!.property).toBe("wasmSha256");
        expect(refused.failures![0]!.reason).toMatch(/cannot be published to iu-provider-test without losing data; nothing was published/);
        expect(refused.failures![0]!.reason).toMatch(/column version_counter.extra added .* — refused: adding a column requires a manual migration/);
        expect(refused.failures![0]!.reason).toMatch(/delete_data to on_conflict/);
        // Nothing reached the server: it still runs the module published above.
        expect((await database.read(published.id, published.outs)).props.sha256).toBe(published.outs.sha256);

        const clearing = await database.check(olds, dbInputs(column, "on_conflict"));
        expect(clearing.failures).toBeUndefined();
        expect(clearing.inputs.migrationPlan).toMatch(/delete_data = on_conflict: the database will be cleared: every row in every table is deleted$/);

        const down = await database.check(olds, { ...dbInputs(column), serverUrl: "http://127.0.0.1:9" });
        expect(down.failures).toBeUndefined();
        expect(down.inputs.migrationPlan).toMatch(/^not computed \(.*\); the server checks the migration when it is published$/);
    });

    it("delete_data: never fails on the add-column migration (400 'update rejected'); on_conflict clears and publishes", async () => {
        const next = wasmOf("module-add-column.wasm.gz");
        await expect(database.update(published.id, published.outs, dbInputs(next, "never"))).rejects.toThrow(
            /publish of iu-provider-test failed: PUT \/v1\/database\/iu-provider-test\?clear=false answered HTTP 400: Database update rejected/,
        );
        expect((await database.read(published.id, published.outs)).props.sha256).toBe(published.outs.sha256);
        const cleared = await database.update(published.id, published.outs, dbInputs(next, "on_conflict"));
        expect(cleared.outs).toMatchObject({ cleared: true, sha256: next.sha256 });
        expect((await database.read(published.id, cleared.outs)).props.sha256).toBe(next.sha256);
    });

    it("after the signing keys are regenerated, diff shows drift, refresh marks the token rejected and update names the cause and fix", async () => {
        await stop();
        fs.rmSync(path.join(root, "config"), { recursive: true });
        fs.mkdirSync(path.join(root, "config"));
        await start();
        expect((await send(url, { method: "GET", route: `/v1/identity/${minted.outs.identity}/verify`, token: minted.outs.token }, 5000)).status).toBe(401);
        expect(await identity.diff(minted.id, minted.outs, idInputs())).toMatchObject({ changes: true, replaces: [] });
        expect((await identity.read(minted.id, minted.outs)).props.tokenAccepted).toBe(false);
        await expect(identity.update(minted.id, minted.outs, idInputs())).rejects.toThrow(
            new RegExp(
                `its JWT signing keys under ${root.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/config were regenerated .*restore them or \`pulumi up --replace urn:pulumi:t::inner-universe::x::inner-universe-deployer-mint\``,
            ),
        );
        await expect(database.update(published.id, published.outs, dbInputs(wasmOf("module.wasm.gz"), "never"))).rejects.toThrow(
            /answered HTTP 401: TokenError\(Error\(InvalidSignature\)\)/,
        );
    });
});
