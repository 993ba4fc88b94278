/**
 * A command-line SpacetimeDB client built on the real TypeScript client SDK
 * (@clockworklabs/spacetimedb-sdk 1.3.3, protocol v1.bsatn.spacetimedb, for SpacetimeDB 1.2 servers)
 * and the hand-written module bindings in ./bindings. The e2e suite runs it as a child process to
 * prove the module works through an SDK client, not only through the HTTP API.
 *
 * Usage:
 *   npx tsx test/e2e/clients/sdkClient.ts --uri ws(s)://HOST:PORT --db NAME [--token TOKEN]
 *       [--call set_config|refresh_system_status [--args JSON_ARRAY]] [--read config]
 *       [--timeout SECONDS] [--skip-schema-check] [--schema-uri http://HOST:PORT]
 *
 *   --uri      server address; ws://, wss://, http:// or https:// (the SDK maps http(s) to ws(s)).
 *              A private CA for wss:// is trusted through NODE_EXTRA_CA_CERTS (read by Node at start;
 *              it covers both the SDK's token fetch and its WebSocket, which are Node's undici).
 *   --db       database name or identity.
 *   --token    identity token (JWT); without it the server mints a new anonymous identity.
 *   --call     reducer to call; --args is a JSON array of its arguments, in order (default []).
 *   --read     table to subscribe to (`SELECT * FROM config`) and print after the call.
 *   --timeout  seconds for the whole run (default 10).
 *   --skip-schema-check  do not compare the bindings with the server's published schema first.
 *   --schema-uri         read the schema from this server URL instead of --uri (a TLS front hides it).
 *
 * Stdout: exactly one JSON line.
 *   Success (exit 0):
 *     {"identity":"<hex>","reducer":"set_config","status":"committed"|"failed","error":<string|null>,
 *      "configRows":[{"key","value","description","updatedAt","updatedBy"}]}   (configRows with --read config;
 *     reducer/status/error are null when only --read is given)
 *   Failure (exit 1: schema mismatch, connection error, subscription error, timeout; exit 2: bad usage):
 *     {"error":"<message>"}
 * Everything else (including the SDK's own console logging) goes to stderr.
 */
import { Console } from "node:console";
import { AlgebraicType, type ReducerEvent } from "@clockworklabs/spacetimedb-sdk";
import { Config, DbConnection, REMOTE_MODULE, type ErrorContext, type Reducer, type ReducerEventContext } from "./bindings";

export interface CliOptions {
    uri: string;
    db: string;
    token?: string;
    call?: string;
    args: unknown[];
    read?: string;
    timeoutMs: number;
    schemaCheck: boolean;
    /** Where to read the schema when `uri` is a TLS front that (rightly) does not expose it. */
    schemaUri?: string;
}

export interface ConfigRowOut {
    key: string;
    value: string;
    description: string | null;
    updatedAt: string;
    updatedBy: string;
}

export interface ResultOut {
    identity: string;
    reducer: string | null;
    status: "committed" | "failed" | null;
    error: string | null;
    configRows?: ConfigRowOut[];
}

class UsageError extends Error {}

const SUPPORTED_READS = ["config"] as const;

// ---------------------------------------------------------------------------------------------
// Command line

export function parseArgs(argv: string[]): CliOptions {
    const values = new Map<string, string>();
    let schemaCheck = true;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i]!;
        if (arg === "--skip-schema-check") {
            schemaCheck = false;
            continue;
        }
        const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg);
        if (!m) throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`);
        const name = m[1]!;
        if (!["uri", "db", "token", "call", "args", "read", "timeout", "schema-uri"].includes(name)) throw new UsageError(`unknown option --${name}`);
        let value = m[2];
        if (value === undefined) {
            value = argv[++i];
            if (value === undefined) throw new UsageError(`--${name} needs a value`);
        }
        values.set(name, value);
    }
    const uri = values.get("uri");
    const db = values.get("db");
    if (!uri) throw new UsageError("--uri is required");
    if (!db) throw new UsageError("--db is required");
    let parsedUri: URL;
    try {
        parsedUri = new URL(uri);
    } catch {
        throw new UsageError(`--uri ${JSON.stringify(uri)} is not a URL`);
    }
    if (!["ws:", "wss:", "http:", "https:"].includes(parsedUri.protocol)) throw new UsageError("--uri must be ws://, wss://, http:// or https://");

    const call = values.get("call");
    const read = values.get("read");
    if (!call && !read) throw new UsageError("nothing to do: give --call and/or --read");
    if (call && !(call in REMOTE_MODULE.reducers)) {
        throw new UsageError(`--call ${call}: the bindings only know ${Object.keys(REMOTE_MODULE.reducers).join(", ")}`);
    }
    if (read && !(SUPPORTED_READS as readonly string[]).includes(read)) throw new UsageError(`--read ${read}: only ${SUPPORTED_READS.join(", ")} is supported`);

    let args: unknown[] = [];
    const rawArgs = values.get("args");
    if (rawArgs !== undefined) {
        if (!call) throw new UsageError("--args without --call");
        let parsed: unknown;
        try {
            parsed = JSON.parse(rawArgs);
        } catch (e) {
            throw new UsageError(`--args is not JSON: ${(e as Error).message}`);
        }
        if (!Array.isArray(parsed)) throw new UsageError("--args must be a JSON array");
        args = parsed;
    }

    let timeoutMs = 10_000;
    const rawTimeout = values.get("timeout");
    if (rawTimeout !== undefined) {
        const seconds = Number(rawTimeout.replace(/s$/, ""));
        if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError("--timeout must be a positive number of seconds");
        timeoutMs = Math.round(seconds * 1000);
    }

    const token = values.get("token");
    const schemaUri = values.get("schema-uri");
    return {
        ...(schemaUri ? { schemaUri } : {}),
        uri,
        db,
        ...(token ? { token } : {}),
        ...(call ? { call } : {}),
        args,
        ...(read ? { read } : {}),
        timeoutMs,
        schemaCheck,
    };
}

// ---------------------------------------------------------------------------------------------
// Reducers this client can call, through the generated-style RemoteReducers API

interface ReducerDriver {
    /** Registers `cb` for events of this reducer. */
    on(conn: DbConnection, cb: (ctx: ReducerEventContext) => void): void;
    call(conn: DbConnection, args: unknown[]): void;
}

const DRIVERS: Record<keyof typeof REMOTE_MODULE.reducers, ReducerDriver> = {
    set_config: {
        on: (conn, cb) => conn.reducers.onSetConfig((ctx) => cb(ctx)),
        call: (conn, args) => conn.reducers.setConfig(args[0] as string, args[1] as string),
    },
    refresh_system_status: {
        on: (conn, cb) => conn.reducers.onRefreshSystemStatus((ctx) => cb(ctx)),
        call: (conn) => conn.reducers.refreshSystemStatus(),
    },
};

/** Checks the JSON arguments against the reducer's parameter types in the bindings. */
export function checkReducerArgs(reducer: string, args: unknown[]): void {
    const info = REMOTE_MODULE.reducers[reducer as keyof typeof REMOTE_MODULE.reducers];
    const params = info.argsType.product.elements;
    if (args.length !== params.length) {
        throw new UsageError(`${reducer} takes ${params.length} argument(s) (${params.map((p) => p.name).join(", ")}), got ${args.length}`);
    }
    params.forEach((p, i) => {
        if (p.algebraicType.type === AlgebraicType.Type.String && typeof args[i] !== "string") {
            throw new UsageError(`${reducer} argument ${i + 1} (${p.name}) must be a string`);
        }
    });
}

// ---------------------------------------------------------------------------------------------
// Schema check: the bindings against the schema the server publishes

function camel(snake: string): string {
    const parts = snake.split("_").filter((p) => p.length > 0);
    return parts.map((p, i) => (i === 0 ? p.charAt(0).toLowerCase() + p.slice(1) : p.charAt(0).toUpperCase() + p.slice(1))).join("");
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObj = { [k: string]: Json };

function optName(n: Json | undefined): string {
    if (n && typeof n === "object" && !Array.isArray(n) && typeof n.some === "string") return n.some;
    return "";
}

function specialProduct(elements: { name: string; ty: string }[]): string | undefined {
    if (elements.length !== 1) return undefined;
    const [e] = elements;
    if (e!.name === "__identity__" && e!.ty === "U256") return "Identity";
    if (e!.name === "__connection_id__" && e!.ty === "U128") return "ConnectionId";
    if (e!.name === "__timestamp_micros_since_unix_epoch__" && e!.ty === "I64") return "Timestamp";
    if (e!.name === "__time_duration_micros__" && e!.ty === "I64") return "TimeDuration";
    return undefined;
}

function showProduct(elements: { name: string; ty: string }[]): string {
    return specialProduct(elements) ?? `(${elements.map((e) => `${e.name}: ${e.ty}`).join(", ")})`;
}

function showSum(variants: { name: string; ty: string }[]): string {
    if (variants.length === 2 && variants[0]!.name === "some" && variants[1]!.name === "none" && variants[1]!.ty === "()") return `Option<${variants[0]!.ty}>`;
    return `<${variants.map((v) => `${v.name}: ${v.ty}`).join(" | ")}>`;
}

/** Readable canonical form of a type in the server's SATS-JSON (RawModuleDefV9 typespace). */
export function showServerType(ty: Json, typespace: Json[], depth = 0): string {
    if (depth > 32) return "<too deep>";
    if (!ty || typeof ty !== "object" || Array.isArray(ty)) return `<unknown ${JSON.stringify(ty)}>`;
    const [tag, body] = Object.entries(ty)[0] ?? ["", null];
    switch (tag) {
        case "Ref":
            return showServerType(typespace[body as number] ?? null, typespace, depth + 1);
        case "Product": {
            const els = ((body as JsonObj).elements as JsonObj[]).map((e) => ({ name: optName(e.name), ty: showServerType(e.algebraic_type!, typespace, depth + 1) }));
            return showProduct(els);
        }
        case "Sum": {
            const vs = ((body as JsonObj).variants as JsonObj[]).map((v) => ({ name: optName(v.name), ty: showServerType(v.algebraic_type!, typespace, depth + 1) }));
            return showSum(vs);
        }
        case "Array":
            return `[${showServerType(body, typespace, depth + 1)}]`;
        case "Map":
            return `Map<${showServerType((body as JsonObj).key_ty!, typespace, depth + 1)}, ${showServerType((body as JsonObj).ty!, typespace, depth + 1)}>`;
        default:
            return tag;
    }
}

/** The same canonical form for a type in the bindings. */
export function showBindingType(ty: AlgebraicType): string {
    switch (ty.type) {
        case AlgebraicType.Type.ProductType:
            return showProduct(ty.product.elements.map((e) => ({ name: e.name, ty: showBindingType(e.algebraicType) })));
        case AlgebraicType.Type.SumType:
            return showSum(ty.sum.variants.map((v) => ({ name: v.name, ty: showBindingType(v.algebraicType) })));
        case AlgebraicType.Type.ArrayType:
            return `[${showBindingType(ty.array)}]`;
        case AlgebraicType.Type.MapType:
            return `Map<${showBindingType(ty.map.keyType)}, ${showBindingType(ty.map.valueType)}>`;
        default:
            return ty.type;
    }
}

/** Server columns/params as the generator would name them (camelCase) with canonical types. */
function serverFields(elements: JsonObj[], typespace: Json[]): string[] {
    return elements.map((e) => `${camel(optName(e.name))}: ${showServerType(e.algebraic_type!, typespace)}`);
}

function bindingFields(product: AlgebraicType): string[] {
    return product.product.elements.map((e) => `${e.name}: ${showBindingType(e.algebraicType)}`);
}

function diffFields(what: string, server: string[], bindings: string[]): string[] {
    if (server.join(", ") === bindings.join(", ")) return [];
    return [`${what}: server has (${server.join(", ")}), bindings have (${bindings.join(", ")})`];
}

/** Compares the bindings with a RawModuleDefV9 (as JSON); returns the differences. */
export function compareSchema(schema: JsonObj): string[] {
    const problems: string[] = [];
    const typespace = ((schema.typespace as JsonObj | undefined)?.types as Json[] | undefined) ?? [];
    const tables = (schema.tables as JsonObj[] | undefined) ?? [];
    const reducers = (schema.reducers as JsonObj[] | undefined) ?? [];

    for (const [name, info] of Object.entries(REMOTE_MODULE.tables)) {
        const t = tables.find((x) => x.name === name);
        if (!t) {
            problems.push(`table ${name}: not in the server's schema`);
            continue;
        }
        const row = typespace[t.product_type_ref as number] as JsonObj | undefined;
        const rowProduct = row?.Product as JsonObj | undefined;
        if (!rowProduct) {
            problems.push(`table ${name}: row type is not a product`);
            continue;
        }
        const cols = rowProduct.elements as JsonObj[];
        problems.push(...diffFields(`table ${name} columns`, serverFields(cols, typespace), bindingFields(info.rowType)));
        const pk = (t.primary_key as number[] | undefined) ?? [];
        const serverPk = pk.map((i) => camel(optName(cols[i]?.name ?? null))).join(",");
        if (serverPk !== info.primaryKeyInfo.colName) problems.push(`table ${name} primary key: server has "${serverPk}", bindings have "${info.primaryKeyInfo.colName}"`);
        const access = t.table_access && typeof t.table_access === "object" ? Object.keys(t.table_access)[0] : undefined;
        if (access !== "Public") problems.push(`table ${name}: not public on the server (${String(access)}), clients cannot subscribe to it`);
    }
    for (const [name, info] of Object.entries(REMOTE_MODULE.reducers)) {
        const r = reducers.find((x) => x.name === name);
        if (!r) {
            problems.push(`reducer ${name}: not in the server's schema`);
            continue;
        }
        const params = ((r.params as JsonObj | undefined)?.elements as JsonObj[] | undefined) ?? [];
        problems.push(...diffFields(`reducer ${name} parameters`, serverFields(params, typespace), bindingFields(info.argsType)));
    }
    return problems;
}

function httpBase(uri: string): URL {
    const u = new URL(uri);
    if (u.protocol === "ws:") u.protocol = "http:";
    if (u.protocol === "wss:") u.protocol = "https:";
    return u;
}

async function fetchSchema(o: CliOptions, signal: AbortSignal): Promise<JsonObj> {
    const url = new URL(`v1/database/${encodeURIComponent(o.db)}/schema?version=9`, httpBase(o.schemaUri ?? o.uri));
    const res = await fetch(url, { headers: o.token ? { Authorization: `Bearer ${o.token}` } : {}, signal });
    const text = await res.text();
    if (!res.ok) throw new Error(`GET ${url.pathname}${url.search}: HTTP ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as JsonObj;
}

// ---------------------------------------------------------------------------------------------
// Output helpers

export function describeError(e: unknown): string {
    if (e instanceof Error) {
        const cause = (e as Error & { cause?: unknown }).cause;
        return cause !== undefined && cause !== null ? `${e.message}: ${describeError(cause)}` : e.message;
    }
    if (e && typeof e === "object") {
        const o = e as { message?: unknown; error?: unknown; code?: unknown; reason?: unknown; type?: unknown };
        if (o.error !== undefined && o.error !== null) return describeError(o.error);
        if (typeof o.message === "string" && o.message) return o.message;
        if (typeof o.code === "number") return `websocket closed (code ${o.code}${typeof o.reason === "string" && o.reason ? `, ${o.reason}` : ""})`;
        if (typeof o.type === "string") return `websocket ${o.type} event`;
    }
    return String(e);
}

export function configRowOut(row: Config): ConfigRowOut {
    let updatedAt: string;
    try {
        updatedAt = row.updatedAt.toDate().toISOString();
    } catch {
        updatedAt = String(row.updatedAt.microsSinceUnixEpoch);
    }
    return {
        key: row.key,
        value: row.value,
        description: row.description ?? null,
        updatedAt,
        updatedBy: row.updatedBy.toHexString(),
    };
}

function statusOut(event: ReducerEvent<Reducer>): { status: "committed" | "failed"; error: string | null } {
    const s = event.status;
    switch (s.tag) {
        case "Committed":
            return { status: "committed", error: null };
        case "Failed":
            return { status: "failed", error: s.value };
        default:
            return { status: "failed", error: `reducer ${s.tag}` };
    }
}

// ---------------------------------------------------------------------------------------------
// Main

let finished = false;
let activeConn: DbConnection | undefined;

function finish(out: ResultOut | { error: string }, code: number): void {
    if (finished) return;
    finished = true;
    try {
        activeConn?.disconnect();
    } catch {
        // exiting anyway
    }
    process.stdout.write(JSON.stringify(out) + "\n", () => process.exit(code));
}

function fail(message: string, code = 1): void {
    finish({ error: message }, code);
}

async function run(o: CliOptions): Promise<void> {
    if (o.call) checkReducerArgs(o.call, o.args);

    let stage = "starting";
    const deadline = AbortSignal.timeout(o.timeoutMs);
    // Not unref'd: while the SDK's WebSocket is still connecting nothing else may hold the loop.
    setTimeout(() => fail(`timeout after ${o.timeoutMs / 1000}s while ${stage}`), o.timeoutMs);

    if (o.schemaCheck) {
        stage = "checking the bindings against the server's schema";
        let schema: JsonObj;
        try {
            schema = await fetchSchema(o, deadline);
        } catch (e) {
            return fail(deadline.aborted ? `timeout after ${o.timeoutMs / 1000}s while ${stage}` : `schema check: ${describeError(e)}`);
        }
        const problems = compareSchema(schema);
        if (problems.length > 0) return fail(`bindings do not match the module: ${problems.join("; ")}`);
    }

    stage = "connecting";
    const callReducer = (conn: DbConnection): void => {
        if (!o.call) {
            return finish({ identity: conn.identity!.toHexString(), reducer: null, status: null, error: null, ...rowsOut(conn) }, 0);
        }
        const driver = DRIVERS[o.call as keyof typeof DRIVERS];
        // This run makes exactly one call, on its own connection: the event for this reducer from
        // this identity and this connection id is that call's. (Arguments are not compared: when
        // the bindings disagree with the module, the server's verdict must still be reported.)
        driver.on(conn, (ctx) => {
            const ev = ctx.event;
            if (!conn.identity || !ev.callerIdentity.isEqual(conn.identity)) return;
            if (ev.callerConnectionId && !ev.callerConnectionId.isEqual(conn.connectionId)) return;
            finish({ identity: conn.identity.toHexString(), reducer: o.call!, ...statusOut(ev), ...rowsOut(conn) }, 0);
        });
        stage = `waiting for the ${o.call} reducer event`;
        driver.call(conn, o.args);
    };
    const rowsOut = (conn: DbConnection): { configRows?: ConfigRowOut[] } =>
        o.read === "config" ? { configRows: [...conn.db.config.iter()].map(configRowOut).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)) } : {};

    let builder = DbConnection.builder()
        .withUri(o.uri)
        .withModuleName(o.db)
        .onConnect((conn: DbConnection) => {
            activeConn = conn;
            if (o.read) {
                stage = `subscribing to ${o.read}`;
                conn.subscriptionBuilder()
                    .onApplied(() => callReducer(conn))
                    .onError((ctx: ErrorContext) => fail(`subscription to ${o.read} failed: ${describeError(ctx.event)}`))
                    .subscribe(`SELECT * FROM ${o.read}`);
            } else {
                callReducer(conn);
            }
        })
        .onConnectError((_ctx: ErrorContext, err: unknown) => fail(`${stage === "connecting" ? "connection failed" : `connection lost while ${stage}`}: ${describeError(err)}`))
        .onDisconnect((_ctx: ErrorContext, err?: unknown) => fail(`disconnected while ${stage}${err ? `: ${describeError(err)}` : ""}`));
    if (o.token) builder = builder.withToken(o.token);
    activeConn = builder.build();
}

function main(): void {
    // The SDK logs with console.log; stdout is reserved for the one result line.
    const stderrConsole = new Console({ stdout: process.stderr, stderr: process.stderr });
    console.log = stderrConsole.log.bind(stderrConsole);
    console.info = stderrConsole.info.bind(stderrConsole);
    console.debug = stderrConsole.debug.bind(stderrConsole);
    process.on("unhandledRejection", (e) => fail(`SDK error: ${describeError(e)}`));
    process.on("uncaughtException", (e) => fail(`SDK error: ${describeError(e)}`));
    let o: CliOptions;
    try {
        o = parseArgs(process.argv.slice(2));
    } catch (e) {
        return fail(describeError(e), e instanceof UsageError ? 2 : 1);
    }
    run(o).catch((e: unknown) => fail(describeError(e), e instanceof UsageError ? 2 : 1));
}

// Run only as a program (tsx runs this file as CommonJS), not when imported.
if (require.main === module) main();
