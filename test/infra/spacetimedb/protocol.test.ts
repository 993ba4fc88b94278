import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../../infra/lib/canonicalJson";
import { databaseDiff } from "../../../infra/spacetimedb/database-impl.ts";
import { describeAnswer, redact } from "../../../infra/spacetimedb/http-impl.ts";
import { childUrn } from "../../../infra/spacetimedb/identity";
import { identityDiff, identityState } from "../../../infra/spacetimedb/identity-impl.ts";
import { settingsDiff } from "../../../infra/spacetimedb/moduleSettings-impl.ts";
import {
    type DeleteDataPolicy,
    firstClear,
    hexIdentity,
    INIT_EVENT,
    interpretVerify,
    isUnknown,
    keysLocation,
    MODULE_CONFIG_KEY,
    parseDatabaseInfo,
    parseMinted,
    parsePublished,
    publishHint,
    publishRequest,
    rejectedTokenMessage,
    retryWithClear,
    runningModule,
    settingsCalls,
    sqlRequest,
    sqlRows,
    UNKNOWN,
} from "../../../infra/spacetimedb/protocol-impl.ts";
import { readinessDiff, verdict } from "../../../infra/spacetimedb/readiness-impl.ts";
import { PROJECT_ROOT_FOR_TESTS as ROOT } from "../../support/paths";

const HEX = "c200df8beec39927c2f88e780e5d5aeae6150eb2e121a7c9ca12822edf8597fa";
const TOKEN = "eyJ0eXAiOiJKV1QifQ.eyJoZXhfaWRlbnRpdHkiOiJjMiJ9.c2ln";
const res = (status: number, body = "") => ({ status, body });

describe("requests", () => {
    it("publishes the wasm bytes with the bearer token and the clear flag", () => {
        const wasm = new Uint8Array([0, 97, 115, 109]);
        expect(publishRequest("inner-universe", false, TOKEN, wasm)).toEqual({
            method: "PUT",
            route: "/v1/database/inner-universe?clear=false",
            token: TOKEN,
            body: wasm,
            contentType: "application/wasm",
        });
        expect(publishRequest("a b", true, TOKEN, wasm).route).toBe("/v1/database/a%20b?clear=true");
    });

    it("sends SQL as text/plain, with the token only when there is one", () => {
        expect(sqlRequest("db", "SELECT 1", TOKEN)).toEqual({ method: "POST", route: "/v1/database/db/sql", token: TOKEN, body: "SELECT 1", contentType: "text/plain" });
        expect(sqlRequest("db", "SELECT 1")).not.toHaveProperty("token");
    });

    it("sends one set_config(key, JSON of value) per key, in key order, values in canonical JSON", () => {
        const calls = settingsCalls("db", { server_config: { b: 1, a: [true] }, feature_flags: { enable_metrics: false } }, TOKEN);
        expect(calls.map((c) => c.key)).toEqual(["feature_flags", "server_config"]);
        expect(calls[1]!.req).toEqual({
            method: "POST",
            route: "/v1/database/db/call/set_config",
            token: TOKEN,
            body: JSON.stringify(["server_config", '{"a":[true],"b":1}']),
            contentType: "application/json",
        });
        expect(JSON.parse(JSON.parse(calls[0]!.req.body as string)[1])).toEqual({ enable_metrics: false });
    });

    it("canonical JSON ignores key order and undefined members", () => {
        expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: null } })).toBe(canonicalJson({ a: { c: null, d: [1, { e: 3, f: 2 }] }, b: 1 }));
        expect(canonicalJson({ a: 1, b: undefined })).toBe('{"a":1}');
    });
});

describe("what the answers mean", () => {
    it.each([
        ["0x-prefixed", `0x${HEX}`, HEX],
        ["SATS identity object", { __identity__: `0x${HEX.toUpperCase()}` }, HEX],
        ["bare hex", HEX, HEX],
    ])("reads an identity given as %s", (_l, v, want) => expect(hexIdentity(v)).toBe(want));
    it("refuses what is not an identity", () => expect(() => hexIdentity("0x12")).toThrow(/256-bit identity/));

    it("reads a minted identity, or says the pair is missing", () => {
        expect(parseMinted(res(200, JSON.stringify({ identity: HEX, token: TOKEN })))).toEqual({ identity: HEX, token: TOKEN });
        expect(() => parseMinted(res(200, JSON.stringify({ identity: HEX })))).toThrow(/no identity\/token pair/);
        expect(() => parseMinted(res(200, "<html>"))).toThrow(/POST \/v1\/identity answered HTTP 200 with a body that is not JSON/);
    });

    it.each([
        [204, "accepted"],
        [200, "accepted"],
        [401, "rejected"], // TokenError(Error(InvalidSignature)): signed by other keys
        [400, "rejected"], // a valid token of another identity
        [403, "rejected"],
        [500, undefined],
        [502, undefined],
    ])("GET /v1/identity/<id>/verify %i means %s", (status, want) => expect(interpretVerify(res(status))).toBe(want));

    it.each<[DeleteDataPolicy, number, string, boolean, boolean]>([
        // policy, first status, first body, clear on the first try, retry with clear=true
        ["never", 400, "Database update rejected: Errors occurred: Adding a column extra to table version_counter requires a manual migration", false, false],
        ["on_conflict", 400, "Database update rejected: Errors occurred: Adding a column extra …", false, true],
        ["on_conflict", 400, "invalid wasm", false, false],
        ["on_conflict", 500, "update rejected", false, false],
        ["on_conflict", 200, '{"Success":{}}', false, false],
        ["always", 400, "Database update rejected", true, false],
    ])("delete_data=%s, first answer %i %j: clear first %s, retry with clear %s", (policy, status, body, clearFirst, retry) => {
        expect(firstClear(policy)).toBe(clearFirst);
        expect(retryWithClear(policy, res(status, body))).toBe(retry);
    });

    it("reads a publish success, and refuses an answer without Success", () => {
        const req = publishRequest("db", false, TOKEN, new Uint8Array());
        const body = JSON.stringify({ Success: { domain: "db", database_identity: `c200378d487761055fde18c1a045ee4207228dda92764a6fc47470a01e78ec04`, op: "created" } });
        expect(parsePublished(req, res(200, body))).toEqual({ databaseIdentity: "c200378d487761055fde18c1a045ee4207228dda92764a6fc47470a01e78ec04", op: "created" });
        expect(() => parsePublished(req, res(200, '{"Failure":1}'))).toThrow(/PUT \/v1\/database\/db\?clear=false answered HTTP 200 without Success/);
    });

    it.each([
        [400, "Database update rejected: …", /delete_data to on_conflict/],
        [500, "Permission denied: `c200cc0f` does not own database `c200378d`", /belongs to another identity/],
        [401, "TokenError(Error(InvalidSignature))", /^$/],
    ])("a failed publish (%i) comes with a hint when one helps", (status, body, hint) => expect(publishHint(res(status, body))).toMatch(hint));

    it("reads the database's identity and owner from GET /v1/database/<name>", () => {
        const body = JSON.stringify({
            database_identity: { __identity__: "0xc200378d487761055fde18c1a045ee4207228dda92764a6fc47470a01e78ec04" },
            owner_identity: { __identity__: `0x${HEX}` },
            host_type: { Wasm: [] },
            initial_program: "0xfddb2326da4972ed5dd7ca860d53dee4616527559aba92dc00815a406f0e3a1b",
        });
        expect(parseDatabaseInfo({ method: "GET", route: "/v1/database/db" }, res(200, body))).toEqual({
            databaseIdentity: "c200378d487761055fde18c1a045ee4207228dda92764a6fc47470a01e78ec04",
            ownerIdentity: HEX,
        });
    });

    it("reads the first statement's rows, and hashes the running module's bytes", () => {
        const req = sqlRequest("db", "SELECT program_hash, program_bytes FROM st_module");
        const bytes = Buffer.from("0061736d01000000", "hex");
        const rows = sqlRows(req, res(200, JSON.stringify([{ schema: {}, rows: [[`0x${"ab".repeat(32)}`, bytes.toString("hex")]] }])));
        expect(runningModule(rows)).toEqual({ programHash: "ab".repeat(32), sha256: createHash("sha256").update(bytes).digest("hex") });
        expect(runningModule([])).toBeUndefined();
        expect(() => sqlRows(req, res(200, '{"error":1}'))).toThrow(/without rows/);
    });
});

describe("messages", () => {
    it("name method, route, status and body, never the token", () => {
        const req = { method: "POST" as const, route: "/v1/database/db/sql", token: TOKEN };
        expect(describeAnswer(req, res(401, `TokenError for ${TOKEN}`))).toBe("POST /v1/database/db/sql answered HTTP 401: TokenError for <token>");
        expect(describeAnswer(req, res(404))).toBe("POST /v1/database/db/sql answered HTTP 404: (empty body)");
        expect(describeAnswer(req, res(500, "x".repeat(5000)))).toMatch(/… \(5000 chars\)$/);
        expect(redact("a", undefined)).toBe("a");
    });

    it.each([
        ["local:.iu/dev/stdb", ".iu/dev/stdb/config"],
        ["inner-universe-test-stdb", "/stdb/config in Docker volume inner-universe-test-stdb"],
        ["in-memory:test", "/stdb/config inside the in-memory container of stack test"],
        ["vol-0abc", "/stdb/config on EBS volume vol-0abc"],
    ])("say where the signing keys of scope %s live", (scope, where) => expect(keysLocation(scope)).toBe(where));

    it("for a rejected token, name the cause and both fixes", () => {
        const msg = rejectedTokenMessage(
            "local:.iu/dev/stdb",
            "urn:pulumi:dev::inner-universe::x$y::inner-universe-deployer-mint",
            "GET … answered HTTP 401: TokenError(Error(InvalidSignature))",
        );
        expect(msg).toContain("the server no longer accepts the deployer token: its JWT signing keys under .iu/dev/stdb/config were regenerated");
        expect(msg).toContain("restore them or `pulumi up --replace urn:pulumi:dev::inner-universe::x$y::inner-universe-deployer-mint`");
        expect(msg).toContain("a new identity does not own the existing database");
    });
});

describe("diff rules", () => {
    const known = { identity: HEX, token: TOKEN, scope: "local:.iu/dev/stdb", legacy: false };
    it.each([
        ["nothing changed", {}, undefined, { changes: false, replaces: [] }],
        ["a new scope (other signing keys)", { scope: "local:.iu/other" }, undefined, { changes: true, replaces: ["scope"] }],
        ["a scope not known yet", { scope: UNKNOWN }, undefined, { changes: true, replaces: ["scope"] }],
        ["a new server address", { serverUrl: "http://127.0.0.1:3001" }, "accepted", { changes: true, replaces: [] }],
        ["a token the server rejects", {}, "rejected", { changes: true, replaces: [] }],
        ["an unreachable server (cannot tell)", {}, undefined, { changes: false, replaces: [] }],
    ] as const)("identity: %s", (_l, change, token, want) => {
        const news = { serverUrl: "http://127.0.0.1:3000", scope: known.scope, readyTimeoutSeconds: 60, timeoutMs: 1000, ...change };
        expect(identityDiff(known, "http://127.0.0.1:3000", news, token)).toEqual(want);
    });
    it("identity: a token accepted again after a refresh recorded it rejected (keys restored) is an update that records it", () => {
        const stale = identityState({ identity: HEX, token: TOKEN, scope: known.scope, tokenAccepted: false });
        const news = { serverUrl: "http://127.0.0.1:3000", scope: known.scope };
        expect(identityDiff(stale, "http://127.0.0.1:3000", news, "accepted")).toEqual({ changes: true, replaces: [] });
        expect(identityDiff(stale, "http://127.0.0.1:3000", news, undefined)).toEqual({ changes: false, replaces: [] });
    });

    it("identity: reads the former LocalShell state (stdout + triggers) and asks for an update that rewrites it", () => {
        const legacy = identityState({
            stdout: `${JSON.stringify({ identity: HEX, token: TOKEN })}\n`,
            triggers: ["local:.iu/dev/stdb"],
            environment: { IU_SERVER_URL: "http://127.0.0.1:3000" },
        });
        expect(legacy).toEqual({ ...known, legacy: true });
        expect(identityDiff(legacy, undefined, { serverUrl: "http://127.0.0.1:3000", scope: known.scope }, "accepted")).toEqual({ changes: true, replaces: [] });
        expect(identityState({ identity: HEX, token: TOKEN, scope: known.scope })).toEqual(known);
        expect(() => identityState({})).toThrow(/no identity\/token pair/);
    });

    const db = { serverUrl: "http://127.0.0.1:3000", database: "inner-universe", sha256: "a".repeat(64) };
    const dbNews = {
        serverUrl: db.serverUrl,
        database: db.database,
        wasmSha256: db.sha256,
        wasmPath: ".iu/artifacts/a.wasm",
        token: TOKEN,
        deleteData: "never" as const,
        timeoutMs: 30000,
    };
    it.each([
        ["nothing", {}, false, []],
        ["the token, the timeout, the artifact path or the policy", { token: "other", timeoutMs: 1, wasmPath: "elsewhere.wasm", deleteData: "always" as const }, false, []],
        ["the wasm hash", { wasmSha256: "b".repeat(64) }, true, []],
        ["a wasm hash not known yet", { wasmSha256: UNKNOWN }, true, []],
        ["the server URL", { serverUrl: "https://db.example" }, true, []],
        ["the database name", { database: "other" }, true, ["database"]],
    ] as const)("database: a change of %s → changes %s, replaces %j", (_l, change, changes, replaces) => {
        const d = databaseDiff(db, { ...dbNews, ...change });
        expect(d.changes).toBe(changes);
        expect(d.replaces).toEqual(replaces);
    });
    it("database: a module someone else published (seen by refresh) differs from ours → republish", () => {
        expect(databaseDiff({ ...db, sha256: "f".repeat(64) }, dbNews).diffs).toEqual(["wasmSha256"]);
    });

    const settingsOld = { serverUrl: db.serverUrl, database: db.database, settingsJson: '{"a":1}', publishRevision: "r1" };
    it.each([
        ["nothing", {}, []],
        ["the token or timeout", { token: "x", timeoutMs: 5 }, []],
        ["the settings", { settingsJson: '{"a":2}' }, ["settingsJson"]],
        ["the publish revision (a new publish)", { publishRevision: "r2" }, ["publishRevision"]],
        ["a revision not known yet", { publishRevision: UNKNOWN }, ["publishRevision"]],
    ] as const)("settings: a change of %s re-sends %j", (_l, change, want) => {
        expect(settingsDiff(settingsOld, { ...settingsOld, token: TOKEN, timeoutMs: 1000, ...change })).toEqual(want);
    });

    const readyOld = { serverUrl: db.serverUrl, database: db.database, revision: "r1" };
    it.each([
        ["nothing (then the probe decides)", {}, []],
        ["the revision", { revision: "r2" }, ["revision"]],
        ["a public URL added", { publicUrl: "https://127.0.0.1:8443" }, ["publicUrl"]],
        ["a token not known yet (new identity)", { token: UNKNOWN }, ["token"]],
    ] as const)("readiness: a change of %s → %j", (_l, change, want) => {
        expect(readinessDiff(readyOld, { ...readyOld, token: TOKEN, timeoutSeconds: 60, timeoutMs: 1000, ...change })).toEqual(want);
    });

    it("finds unknowns nested in inputs", () => {
        expect(isUnknown({ a: [1, { b: UNKNOWN }] })).toBe(true);
        expect(isUnknown({ a: [1, { b: "x" }] })).toBe(false);
    });
});

describe("readiness verdict", () => {
    const q = (status: number, rows: number) => ({
        req: sqlRequest("db", "SELECT …", TOKEN),
        res: res(status, status === 200 ? JSON.stringify([{ rows: Array.from({ length: rows }, () => []) }]) : "no such table"),
    });
    it.each([
        ["ping down", res(503), undefined, undefined, { ready: false, reason: "GET /v1/ping answered HTTP 503: (empty body)" }],
        ["no module_config row yet", res(200), q(200, 0), q(200, 1), { ready: false, reason: "module_config rows: 0, SYSTEM_INITIALIZED events: 1" }],
        ["the SQL failing", res(200), q(404, 0), q(200, 1), { ready: false, reason: "sql POST /v1/database/db/sql answered HTTP 404: no such table" }],
        ["both present", res(200), q(200, 1), q(200, 2), { ready: true, configRows: 1, initEvents: 2 }],
    ] as const)("%s", (_l, ping, config, events, want) => expect(verdict(ping, config, events)).toEqual(want));
});

describe("the URN named in messages", () => {
    it("is the child's URN under its component", () => {
        const parent = "urn:pulumi:dev::inner-universe::pulumi:pulumi:Stack$inner-universe:auth:DeployerIdentity::inner-universe-deployer";
        expect(childUrn(parent, "pulumi-nodejs:dynamic/spacetimedb:Identity", "inner-universe-deployer-mint")).toBe(
            "urn:pulumi:dev::inner-universe::pulumi:pulumi:Stack$inner-universe:auth:DeployerIdentity$pulumi-nodejs:dynamic/spacetimedb:Identity::inner-universe-deployer-mint",
        );
        expect(() => childUrn("nope", "t", "n")).toThrow(/not a URN/);
    });
});

describe("readiness looks for what the module writes (one fact in two languages, held together here)", () => {
    const rust = (file: string) => fs.readFileSync(path.join(ROOT, "module", "src", file), "utf8");
    it("the init reducer logs INIT_EVENT", () => {
        expect(rust("reducers/lifecycle.rs")).toMatch(new RegExp(`log_event\\(\\s*ctx,\\s*"${INIT_EVENT}"`));
    });
    it("the module's config key is MODULE_CONFIG_KEY", () => {
        expect(rust("config_rules.rs")).toContain(`pub const MODULE_CONFIG_KEY: &str = "${MODULE_CONFIG_KEY}";`);
    });
});
