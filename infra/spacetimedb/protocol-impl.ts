// The SpacetimeDB 1.2 HTTP API as the deploy steps use it: requests and what their answers
// mean, with no I/O (table-tested in test/infra/spacetimedb/protocol.test.ts).
//
// Observed on spacetimedb-standalone 1.2.0:
//   POST /v1/identity                        200 {"identity":"<hex>","token":"<JWT>"}
//   GET  /v1/identity/<id>/verify            204 token accepted and belongs to <id>;
//                                            401 no/invalid token ("TokenError(Error(InvalidSignature))"
//                                                when the signing keys changed); 400 token of another identity
//   PUT  /v1/database/<name>?clear=<bool>    200 {"Success":{"domain","database_identity","op":"created"|"updated"}};
//                                            400 "Database update rejected: …" when the migration needs a clear;
//                                            401 rejected token; 500 "Permission denied: … does not own database …"
//   GET  /v1/database/<name>                 200 {"database_identity":{"__identity__":"0x…"},"owner_identity":{…},
//                                                 "host_type":…,"initial_program":"0x<hash of the FIRST publish>"}; 404
//   POST /v1/database/<name>/sql             200 [{"schema":…,"rows":[…]}, …]; 400 bad query; 404 no database
//   POST /v1/database/<name>/call/<reducer>  200; 530 when the reducer returns an error; 400 bad arguments
//   SQL `SELECT program_hash, program_bytes FROM st_module` answers the RUNNING module (bytes as hex),
//   readable without owning the database: its sha256 is the published wasm's sha256.
//
// Erasable TypeScript, Node built-ins only (loaded by the dynamic-provider process).

import { createHash } from "node:crypto";
import type { DeleteDataPolicy } from "../facts.ts";
import { canonicalJson } from "../lib/canonicalJson.ts";
import type { ApiRequest, ApiResponse } from "./http-impl.ts";

/** What the engine sends for a value not known yet during preview. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function isUnknown(v: unknown): boolean {
    if (v === UNKNOWN) return true;
    if (Array.isArray(v)) return v.some(isUnknown);
    if (v !== null && typeof v === "object") return Object.values(v).some(isUnknown);
    return false;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** `"0xabc…"`, `{"__identity__":"0xabc…"}` or bare hex → 64 lowercase hex digits. */
export function hexIdentity(v: unknown): string {
    const raw = v !== null && typeof v === "object" ? (v as Record<string, unknown>)["__identity__"] : v;
    const hex = typeof raw === "string" ? raw.replace(/^0x/i, "").toLowerCase() : "";
    if (!HEX64.test(hex)) throw new Error(`expected a 256-bit identity, got ${JSON.stringify(v)}`);
    return hex;
}

function parseJson(req: ApiRequest, res: ApiResponse): unknown {
    try {
        return JSON.parse(res.body);
    } catch {
        throw new Error(`${req.method} ${req.route} answered HTTP ${res.status} with a body that is not JSON: ${res.body.slice(0, 200)}`);
    }
}

// ── identity ────────────────────────────────────────────────────────────────────────────

export const mintRequest = (): ApiRequest => ({ method: "POST", route: "/v1/identity" });

export function parseMinted(res: ApiResponse): { identity: string; token: string } {
    const j = parseJson(mintRequest(), res) as { identity?: unknown; token?: unknown };
    if (typeof j.identity !== "string" || !HEX64.test(j.identity) || typeof j.token !== "string" || j.token.split(".").length !== 3) {
        throw new Error("POST /v1/identity returned no identity/token pair");
    }
    return { identity: j.identity, token: j.token };
}

export const verifyRequest = (identity: string, token: string): ApiRequest => ({ method: "GET", route: `/v1/identity/${identity}/verify`, token });

export type TokenStatus = "accepted" | "rejected";

/** 204 accepted; 401 (bad signature: other keys) and 400 (token of another identity) rejected. */
export function interpretVerify(res: ApiResponse): TokenStatus | undefined {
    if (res.status === 204 || res.status === 200) return "accepted";
    if (res.status === 401 || res.status === 400 || res.status === 403) return "rejected";
    return undefined;
}

/** Where a scope's signing keys live, for messages (scope is what DeployerIdentity is bound to). */
export function keysLocation(scope: string): string {
    if (scope.startsWith("local:")) return `${scope.slice("local:".length).replace(/\/+$/, "")}/config`;
    if (scope.startsWith("in-memory:")) return `/stdb/config inside the in-memory container of stack ${scope.slice("in-memory:".length)}`;
    if (scope.startsWith("vol-")) return `/stdb/config on EBS volume ${scope}`;
    return `/stdb/config in Docker volume ${scope}`;
}

export function rejectedTokenMessage(scope: string, urn: string | undefined, detail: string): string {
    return (
        `the server no longer accepts the deployer token: its JWT signing keys under ${keysLocation(scope)} were regenerated (${detail}); ` +
        `restore them or \`pulumi up --replace ${urn || "<urn of the deployer identity>"}\` to mint a new identity ` +
        "(a new identity does not own the existing database)"
    );
}

// ── publish ─────────────────────────────────────────────────────────────────────────────

/** `spacetimedb.publish.delete_data` (its values: infra/facts.ts). */
export type { DeleteDataPolicy };

export function publishRequest(database: string, clear: boolean, token: string, wasm: Uint8Array): ApiRequest {
    return { method: "PUT", route: `/v1/database/${encodeURIComponent(database)}?clear=${clear}`, token, body: wasm, contentType: "application/wasm" };
}

/** The first publish clears only under `always`. */
export const firstClear = (policy: DeleteDataPolicy): boolean => policy === "always";

/** `on_conflict` retries with clear=true only when the server rejected the migration (400 "update rejected"). */
export function retryWithClear(policy: DeleteDataPolicy, first: ApiResponse): boolean {
    return policy === "on_conflict" && first.status === 400 && first.body.includes("update rejected");
}

export interface Published {
    databaseIdentity: string;
    op: string;
}

export function parsePublished(req: ApiRequest, res: ApiResponse): Published {
    const j = parseJson(req, res) as { Success?: { database_identity?: unknown; op?: unknown } };
    if (!j.Success) throw new Error(`${req.method} ${req.route} answered HTTP ${res.status} without Success: ${res.body.slice(0, 500)}`);
    return { databaseIdentity: hexIdentity(j.Success.database_identity), op: String(j.Success.op) };
}

export function publishHint(res: ApiResponse): string {
    if (res.status === 400 && res.body.includes("update rejected")) {
        return "hint: SpacetimeDB 1.x refuses schema changes it cannot migrate; set inner-universe:spacetimedb.publish.delete_data to on_conflict to clear data (never on protected stacks)";
    }
    if (res.status === 500 && res.body.includes("does not own database")) {
        return "hint: the database belongs to another identity; publish with the identity that created it (inner-universe:deployer_token)";
    }
    return "";
}

export const databaseInfoRequest = (database: string): ApiRequest => ({ method: "GET", route: `/v1/database/${encodeURIComponent(database)}` });

export function parseDatabaseInfo(req: ApiRequest, res: ApiResponse): { databaseIdentity: string; ownerIdentity: string } {
    const j = parseJson(req, res) as { database_identity?: unknown; owner_identity?: unknown };
    return { databaseIdentity: hexIdentity(j.database_identity), ownerIdentity: hexIdentity(j.owner_identity) };
}

// ── SQL ─────────────────────────────────────────────────────────────────────────────────

export function sqlRequest(database: string, query: string, token?: string): ApiRequest {
    return { method: "POST", route: `/v1/database/${encodeURIComponent(database)}/sql`, ...(token ? { token } : {}), body: query, contentType: "text/plain" };
}

/** Rows of the first statement's result. */
export function sqlRows(req: ApiRequest, res: ApiResponse): unknown[][] {
    const j = parseJson(req, res);
    const first = Array.isArray(j) ? (j[0] as { rows?: unknown }) : undefined;
    if (!first || !Array.isArray(first.rows)) throw new Error(`${req.method} ${req.route} answered a result without rows: ${res.body.slice(0, 200)}`);
    return first.rows as unknown[][];
}

export const RUNNING_MODULE_QUERY = "SELECT program_hash, program_bytes FROM st_module";

/** The running module as st_module has it: its program hash and the sha256 of its bytes. */
export function runningModule(rows: unknown[][]): { programHash: string; sha256: string } | undefined {
    const row = rows[0];
    if (!row) return undefined;
    const [hash, bytes] = row;
    if (typeof hash !== "string" || typeof bytes !== "string") throw new Error("st_module row without program_hash/program_bytes");
    return {
        programHash: hash.replace(/^0x/, ""),
        sha256: createHash("sha256")
            .update(Buffer.from(bytes.replace(/^0x/, ""), "hex"))
            .digest("hex"),
    };
}

/** What the module's init reducer writes (module/src/reducers/lifecycle.rs; a test holds the two together). */
export const INIT_EVENT = "SYSTEM_INITIALIZED";
export const MODULE_CONFIG_KEY = "module_config";

export const READINESS_QUERIES = {
    configRows: `SELECT * FROM config WHERE key = '${MODULE_CONFIG_KEY}'`,
    initEvents: `SELECT * FROM event_log WHERE event_type = '${INIT_EVENT}'`,
} as const;

// ── settings ────────────────────────────────────────────────────────────────────────────

/** One `set_config(key, value_json)` call per top-level key, in key order. */
export function settingsCalls(database: string, settings: Record<string, unknown>, token: string): { key: string; req: ApiRequest }[] {
    return Object.keys(settings)
        .sort()
        .map((key) => ({
            key,
            req: {
                method: "POST" as const,
                route: `/v1/database/${encodeURIComponent(database)}/call/set_config`,
                token,
                body: JSON.stringify([key, canonicalJson(settings[key])]),
                contentType: "application/json",
            },
        }));
}
