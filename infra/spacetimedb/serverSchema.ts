// The module definition a running SpacetimeDB 1.2 server holds for a database.
//
// Route (crates/client-api/src/routes/database.rs at v1.2.0, `schema`):
//   GET /v1/database/<name_or_identity>/schema?version=9
// answers `RawModuleDefV9::from(module_def)` as SATS-JSON (`sats::serde::SerdeWrapper`):
// products are objects keyed by field name; sums are `{ "<Variant>": payload }` with unit
// payloads as `[]`; `Option<T>` is `{ "some": T }` / `{ "none": [] }`; `ArrayType`
// serializes as its element type; the struct variant `RawIndexAlgorithm::BTree { columns }`
// appears as `{ "BTree": [0] }`; i128 values are JSON numbers. Names of indexes,
// constraints, sequences and schedules are always filled in (the server validated them),
// and tables are sorted by name. `version` is required (400 without it); an unknown
// database answers 404 with an empty body. No authorization is needed, but without a
// bearer token the server mints a fresh identity for the request.
//
// Erasable TypeScript, Node built-ins only (may be loaded by a dynamic provider).

import {
    type AlgebraicType,
    type IndexAlgorithmKind,
    type Lifecycle,
    type ModuleDef,
    ModuleDefError,
    normalizeModuleDef,
    omitUndefined,
    PRIMITIVE_KINDS,
    type PrimitiveKind,
    type RawConstraintDefV9,
    type RawIndexDefV9,
    type RawModuleDefV9,
    type RawReducerDefV9,
    type RawScheduleDefV9,
    type RawSequenceDefV9,
    type RawTableDefV9,
    type RawTypeDefV9,
    type TypeField,
} from "./moduleDef.ts";

/** Path of the schema route for `database` (a name or a hex identity). */
export function schemaPath(database: string): string {
    return `/v1/database/${encodeURIComponent(database)}/schema?version=9`;
}

export class ServerSchemaError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ServerSchemaError";
    }
}

type Json = unknown;

function fail(path: string, msg: string): never {
    throw new ServerSchemaError(`schema JSON at ${path}: ${msg}`);
}

function obj(v: Json, path: string): Record<string, Json> {
    if (typeof v !== "object" || v === null || Array.isArray(v)) fail(path, `expected an object, got ${describe(v)}`);
    return v as Record<string, Json>;
}

function arr(v: Json, path: string): Json[] {
    if (!Array.isArray(v)) fail(path, `expected an array, got ${describe(v)}`);
    return v;
}

function str(v: Json, path: string): string {
    if (typeof v !== "string") fail(path, `expected a string, got ${describe(v)}`);
    return v;
}

function bool(v: Json, path: string): boolean {
    if (typeof v !== "boolean") fail(path, `expected a boolean, got ${describe(v)}`);
    return v;
}

function uint(v: Json, path: string): number {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0) fail(path, `expected a non-negative integer, got ${describe(v)}`);
    return v;
}

/** i128: a JSON number (exact text kept by `parseServerSchemaText`), a bigint, or a decimal string. */
function int128(v: Json, path: string): string {
    if (typeof v === "bigint") return v.toString();
    if (typeof v === "number" && Number.isInteger(v)) {
        if (!Number.isSafeInteger(v)) fail(path, `integer ${v} is beyond 2^53; parse the response text with parseServerSchemaText to keep it exact`);
        return String(v);
    }
    if (typeof v === "string" && /^-?\d+$/.test(v)) return BigInt(v).toString();
    fail(path, `expected an integer, got ${describe(v)}`);
}

function describe(v: Json): string {
    if (v === null) return "null";
    if (Array.isArray(v)) return "an array";
    return typeof v;
}

/** A SATS-JSON sum value: `{ "<Variant>": payload }`. */
function sum(v: Json, path: string): [string, Json] {
    const o = obj(v, path);
    const keys = Object.keys(o);
    if (keys.length !== 1) fail(path, `expected a single-variant object, got keys [${keys.join(", ")}]`);
    const k = keys[0]!;
    return [k, o[k]];
}

function option<T>(v: Json, path: string, inner: (x: Json, p: string) => T): T | undefined {
    const [k, payload] = sum(v, path);
    if (k === "some") return inner(payload, `${path}.some`);
    if (k === "none") return undefined;
    fail(path, `expected an Option ({"some": ..} or {"none": []}), got variant ${k}`);
}

function unitEnum<T extends string>(v: Json, path: string, map: Record<string, T>): T {
    const [k] = sum(v, path);
    const out = map[k];
    if (out === undefined) fail(path, `unknown variant ${k} (expected one of ${Object.keys(map).join(", ")})`);
    return out;
}

const colList = (v: Json, path: string): number[] => arr(v, path).map((c, i) => uint(c, `${path}[${i}]`));
const optStr = (v: Json, path: string): string | undefined => option(v, path, str);

const PRIMITIVE_VARIANTS: Record<string, PrimitiveKind> = Object.fromEntries(PRIMITIVE_KINDS.map((k) => [k === "string" ? "String" : k === "bool" ? "Bool" : k.toUpperCase(), k]));

function algebraicType(v: Json, path: string): AlgebraicType {
    const [k, payload] = sum(v, path);
    const p = `${path}.${k}`;
    switch (k) {
        case "Ref":
            return { kind: "ref", ref: uint(payload, p) };
        case "Sum":
            return { kind: "sum", variants: arr(obj(payload, p)["variants"], `${p}.variants`).map((f, i) => typeField(f, `${p}.variants[${i}]`)) };
        case "Product":
            return { kind: "product", elements: productElements(payload, p) };
        case "Array": {
            // ArrayType serializes as its element type; accept `{elem_ty: ..}` too.
            const o = typeof payload === "object" && payload !== null && !Array.isArray(payload) ? (payload as Record<string, Json>) : undefined;
            const elem = o !== undefined && "elem_ty" in o ? o["elem_ty"] : payload;
            return { kind: "array", elem: algebraicType(elem, p) };
        }
        default: {
            const kind = PRIMITIVE_VARIANTS[k];
            if (kind === undefined) fail(path, `unknown AlgebraicType variant ${k}`);
            return { kind };
        }
    }
}

function productElements(v: Json, path: string): TypeField[] {
    return arr(obj(v, path)["elements"], `${path}.elements`).map((f, i) => typeField(f, `${path}.elements[${i}]`));
}

function typeField(v: Json, path: string): TypeField {
    const o = obj(v, path);
    const name = optStr(o["name"], `${path}.name`);
    const type = algebraicType(o["algebraic_type"], `${path}.algebraic_type`);
    return name === undefined ? { type } : { name, type };
}

/** `{ "BTree": [0] }` or `{ "BTree": { "columns": [0] } }`; `{ "Direct": 0 }` or `{ "Direct": { "column": 0 } }`. */
function indexAlgorithm(v: Json, path: string): { algorithm: IndexAlgorithmKind; columns: number[] } {
    const [k, payload] = sum(v, path);
    const p = `${path}.${k}`;
    const field = (name: string): Json =>
        typeof payload === "object" && payload !== null && !Array.isArray(payload) && name in payload ? (payload as Record<string, Json>)[name] : payload;
    if (k === "BTree") return { algorithm: "btree", columns: colList(field("columns"), p) };
    if (k === "Hash") return { algorithm: "hash", columns: colList(field("columns"), p) };
    if (k === "Direct") return { algorithm: "direct", columns: [uint(field("column"), p)] };
    fail(path, `unknown index algorithm ${k}`);
}

function index(v: Json, path: string): RawIndexDefV9 {
    const o = obj(v, path);
    return omitUndefined({
        name: optStr(o["name"], `${path}.name`),
        accessorName: optStr(o["accessor_name"], `${path}.accessor_name`),
        ...indexAlgorithm(o["algorithm"], `${path}.algorithm`),
    });
}

function constraint(v: Json, path: string): RawConstraintDefV9 {
    const o = obj(v, path);
    const [k, payload] = sum(o["data"], `${path}.data`);
    if (k !== "Unique") fail(`${path}.data`, `unknown constraint kind ${k}`);
    const cols = Array.isArray(payload) ? payload : obj(payload, `${path}.data.Unique`)["columns"];
    return omitUndefined({ name: optStr(o["name"], `${path}.name`), unique: colList(cols, `${path}.data.Unique.columns`) });
}

function sequence(v: Json, path: string): RawSequenceDefV9 {
    const o = obj(v, path);
    return omitUndefined({
        name: optStr(o["name"], `${path}.name`),
        column: uint(o["column"], `${path}.column`),
        start: option(o["start"], `${path}.start`, int128),
        minValue: option(o["min_value"], `${path}.min_value`, int128),
        maxValue: option(o["max_value"], `${path}.max_value`, int128),
        increment: int128(o["increment"], `${path}.increment`),
    });
}

function schedule(v: Json, path: string): RawScheduleDefV9 {
    const o = obj(v, path);
    return omitUndefined({
        name: optStr(o["name"], `${path}.name`),
        reducerName: str(o["reducer_name"], `${path}.reducer_name`),
        scheduledAtColumn: uint(o["scheduled_at_column"], `${path}.scheduled_at_column`),
    });
}

function table(v: Json, path: string): RawTableDefV9 {
    const o = obj(v, path);
    const list = <T>(key: string, f: (x: Json, p: string) => T): T[] => arr(o[key], `${path}.${key}`).map((x, i) => f(x, `${path}.${key}[${i}]`));
    return omitUndefined({
        name: str(o["name"], `${path}.name`),
        productTypeRef: uint(o["product_type_ref"], `${path}.product_type_ref`),
        primaryKey: colList(o["primary_key"], `${path}.primary_key`),
        indexes: list("indexes", index),
        constraints: list("constraints", constraint),
        sequences: list("sequences", sequence),
        schedule: option(o["schedule"], `${path}.schedule`, schedule),
        tableType: unitEnum(o["table_type"], `${path}.table_type`, { System: "system", User: "user" } as const),
        tableAccess: unitEnum(o["table_access"], `${path}.table_access`, { Public: "public", Private: "private" } as const),
    });
}

const LIFECYCLE_VARIANTS: Record<string, Lifecycle> = { Init: "init", OnConnect: "on_connect", OnDisconnect: "on_disconnect" };

function reducer(v: Json, path: string): RawReducerDefV9 {
    const o = obj(v, path);
    return omitUndefined({
        name: str(o["name"], `${path}.name`),
        params: productElements(o["params"], `${path}.params`),
        lifecycle: option(o["lifecycle"], `${path}.lifecycle`, (x, p) => unitEnum(x, p, LIFECYCLE_VARIANTS)),
    });
}

function typeDef(v: Json, path: string): RawTypeDefV9 {
    const o = obj(v, path);
    const name = obj(o["name"], `${path}.name`);
    return {
        scope: arr(name["scope"], `${path}.name.scope`).map((s, i) => str(s, `${path}.name.scope[${i}]`)),
        name: str(name["name"], `${path}.name.name`),
        ref: uint(o["ty"], `${path}.ty`),
        customOrdering: bool(o["custom_ordering"], `${path}.custom_ordering`),
    };
}

/** Maps the server's SATS-JSON `RawModuleDefV9` to the raw TS shape. */
export function parseServerSchemaRaw(json: Json): RawModuleDefV9 {
    const o = obj(json, "$");
    const list = <T>(key: string, f: (x: Json, p: string) => T): T[] => arr(o[key], `$.${key}`).map((x, i) => f(x, `$.${key}[${i}]`));
    const typespace = arr(obj(o["typespace"], "$.typespace")["types"], "$.typespace.types").map((t, i) => algebraicType(t, `$.typespace.types[${i}]`));
    const miscExports = o["misc_exports"] === undefined ? 0 : arr(o["misc_exports"], "$.misc_exports").length;
    const rowLevelSecurity =
        o["row_level_security"] === undefined
            ? []
            : arr(o["row_level_security"], "$.row_level_security").map((r, i) => str(obj(r, `$.row_level_security[${i}]`)["sql"], `$.row_level_security[${i}].sql`));
    return {
        typespace,
        tables: list("tables", table),
        reducers: list("reducers", reducer),
        types: list("types", typeDef),
        miscExports,
        rowLevelSecurity,
    };
}

/** The `ModuleDef` in a parsed `GET /v1/database/<name>/schema?version=9` response. */
export function parseServerSchema(json: Json): ModuleDef {
    try {
        return normalizeModuleDef(parseServerSchemaRaw(json));
    } catch (e) {
        if (e instanceof ModuleDefError) throw new ServerSchemaError(e.message);
        throw e;
    }
}

/**
 * Like `parseServerSchema`, from the response text: integers beyond 2^53 (i128 sequence
 * bounds) are kept exact using JSON.parse's source-text access (Node >= 21).
 */
export function parseServerSchemaText(text: string): ModuleDef {
    const reviver = function (this: unknown, _key: string, value: unknown, context?: { source?: string }): unknown {
        if (typeof value === "number" && !Number.isSafeInteger(value) && Number.isInteger(value) && context?.source !== undefined) {
            return BigInt(context.source);
        }
        return value;
    };
    let json: Json;
    try {
        json = JSON.parse(text, reviver as (this: unknown, key: string, value: unknown) => unknown);
    } catch (e) {
        throw new ServerSchemaError(`schema response is not JSON: ${(e as Error).message}`);
    }
    return parseServerSchema(json);
}
