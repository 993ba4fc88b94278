// The module definition of a SpacetimeDB 1.2 wasm module, obtained without a server.
//
// A module built with the `spacetimedb` crate 1.2 exports `__describe_module__(sink: u32)`.
// The host (crates/core/src/host/wasmtime/wasmtime_module.rs at v1.2.0) instantiates the
// module, calls every `__preinit__*` export in sorted order, calls `__setup__` if present,
// then calls `__describe_module__` with its standard bytes sink (id 1); the module writes
// `bsatn(RawModuleDef::V9(..))` into that sink with the `bytes_sink_write` import
// (crates/bindings/src/rt.rs, crates/bindings-sys/src/lib.rs). We do the same with stub
// imports: every other `spacetime_10.x` function throws if it is ever called.
//
// The decoded `RawModuleDefV9` (crates/lib/src/db/raw_def/v9.rs) is then normalized into
// `ModuleDef`: names the server would generate for unnamed indexes, constraints, sequences
// and schedules are filled in exactly as crates/schema/src/def/validate/v9.rs does, so a
// def from a wasm and a def from a running server (serverSchema.ts) compare equal.
//
// Erasable TypeScript, Node built-ins only (may be loaded by a dynamic provider).

import { BsatnError, BsatnReader } from "./bsatn.ts";

// ---------------------------------------------------------------------------
// Types (shared by the wasm decoder, the server-schema parser and the planner)

export type PrimitiveKind = "string" | "bool" | "i8" | "u8" | "i16" | "u16" | "i32" | "u32" | "i64" | "u64" | "i128" | "u128" | "i256" | "u256" | "f32" | "f64";

/** SATS `AlgebraicType`, variant order as in crates/sats/src/algebraic_type.rs. */
export type AlgebraicType =
    | { kind: "ref"; ref: number }
    | { kind: "sum"; variants: TypeField[] }
    | { kind: "product"; elements: TypeField[] }
    | { kind: "array"; elem: AlgebraicType }
    | { kind: PrimitiveKind };

/** A product element or sum variant (`name` absent when the SATS name is `None`). */
export interface TypeField {
    name?: string;
    type: AlgebraicType;
}

/** BSATN tag order of `AlgebraicType` after Ref/Sum/Product/Array. */
export const PRIMITIVE_KINDS: readonly PrimitiveKind[] = ["string", "bool", "i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "i128", "u128", "i256", "u256", "f32", "f64"];

export type IndexAlgorithmKind = "btree" | "hash" | "direct";
export type Lifecycle = "init" | "on_connect" | "on_disconnect";
export type TableAccess = "public" | "private";
export type TableType = "system" | "user";

/** `RawModuleDefV9`, close to the wire shape (column ids, optional names). */
export interface RawModuleDefV9 {
    typespace: AlgebraicType[];
    tables: RawTableDefV9[];
    reducers: RawReducerDefV9[];
    types: RawTypeDefV9[];
    /** `RawMiscModuleExportV9` has no variants in 1.2; only the count is kept. */
    miscExports: number;
    rowLevelSecurity: string[];
}

export interface RawTableDefV9 {
    name: string;
    productTypeRef: number;
    primaryKey: number[];
    indexes: RawIndexDefV9[];
    constraints: RawConstraintDefV9[];
    sequences: RawSequenceDefV9[];
    schedule?: RawScheduleDefV9;
    tableType: TableType;
    tableAccess: TableAccess;
}

export interface RawIndexDefV9 {
    name?: string;
    accessorName?: string;
    algorithm: IndexAlgorithmKind;
    columns: number[];
}

export interface RawConstraintDefV9 {
    name?: string;
    /** `RawConstraintDataV9::Unique` is the only variant in 1.2. */
    unique: number[];
}

export interface RawSequenceDefV9 {
    name?: string;
    column: number;
    /** i128 values as decimal strings. */
    start?: string;
    minValue?: string;
    maxValue?: string;
    increment: string;
}

export interface RawScheduleDefV9 {
    name?: string;
    reducerName: string;
    scheduledAtColumn: number;
}

export interface RawReducerDefV9 {
    name: string;
    params: TypeField[];
    lifecycle?: Lifecycle;
}

export interface RawTypeDefV9 {
    scope: string[];
    name: string;
    ref: number;
    customOrdering: boolean;
}

/** Normalized module definition (what `describeWasm` and `parseServerSchema` return). */
export interface ModuleDef {
    tables: TableDef[];
    reducers: ReducerDef[];
    types: TypeDef[];
    /** Needed to resolve `ref` types (column types are compared with refs resolved). */
    typespace: AlgebraicType[];
    rowLevelSecurity: string[];
}

export interface ColumnDef {
    name: string;
    /** Position in the row (`ColId`). */
    colId: number;
    /** The type as declared (may contain refs into `typespace`). */
    type: AlgebraicType;
    /** Human-readable rendering, e.g. `u64`, `Option<String>`, `Identity`. */
    typeName: string;
}

export interface IndexDef {
    name: string;
    accessorName?: string;
    algorithm: IndexAlgorithmKind;
    /** Column names, in index order. */
    columns: string[];
    colIds: number[];
}

export interface ConstraintDef {
    name: string;
    kind: "unique";
    /** Column names, in column-id order (a `ColSet`). */
    columns: string[];
    colIds: number[];
}

export interface SequenceDef {
    name: string;
    column: string;
    colId: number;
    start?: string;
    minValue?: string;
    maxValue?: string;
    increment: string;
}

export interface ScheduleDef {
    name: string;
    reducer: string;
    column: string;
    colId: number;
}

export interface TableDef {
    name: string;
    productTypeRef: number;
    columns: ColumnDef[];
    /** Name of the primary-key column (1.2 allows at most one). */
    primaryKey?: string;
    indexes: IndexDef[];
    constraints: ConstraintDef[];
    sequences: SequenceDef[];
    schedule?: ScheduleDef;
    tableType: TableType;
    access: TableAccess;
}

export interface ReducerParam {
    name: string;
    type: AlgebraicType;
    typeName: string;
}

export interface ReducerDef {
    name: string;
    params: ReducerParam[];
    lifecycle?: Lifecycle;
}

export interface TypeDef {
    /** Scoped name joined with `::`. */
    name: string;
    ref: number;
    customOrdering: boolean;
}

export class ModuleDefError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ModuleDefError";
    }
}

// ---------------------------------------------------------------------------
// BSATN decoding of RawModuleDef

function readAlgebraicType(r: BsatnReader): AlgebraicType {
    const at = r.offset;
    const tag = r.tag();
    switch (tag) {
        case 0:
            return { kind: "ref", ref: r.u32() };
        case 1:
            return { kind: "sum", variants: r.array(readTypeField) };
        case 2:
            return { kind: "product", elements: r.array(readTypeField) };
        case 3:
            return { kind: "array", elem: readAlgebraicType(r) };
        default: {
            const kind = PRIMITIVE_KINDS[tag - 4];
            if (kind === undefined) throw new BsatnError(`unknown AlgebraicType tag ${tag} at offset ${at}`);
            return { kind };
        }
    }
}

function readTypeField(r: BsatnReader): TypeField {
    const name = r.option((x) => x.string());
    const type = readAlgebraicType(r);
    return name === undefined ? { type } : { name, type };
}

const colList = (r: BsatnReader): number[] => r.array((x) => x.u16());
const optString = (r: BsatnReader): string | undefined => r.option((x) => x.string());

function readIndex(r: BsatnReader): RawIndexDefV9 {
    const name = optString(r);
    const accessorName = optString(r);
    const at = r.offset;
    const tag = r.tag();
    let algorithm: IndexAlgorithmKind;
    let columns: number[];
    if (tag === 0) {
        algorithm = "btree";
        columns = colList(r);
    } else if (tag === 1) {
        algorithm = "hash";
        columns = colList(r);
    } else if (tag === 2) {
        algorithm = "direct";
        columns = [r.u16()];
    } else {
        throw new BsatnError(`unknown RawIndexAlgorithm tag ${tag} at offset ${at}`);
    }
    return omitUndefined({ name, accessorName, algorithm, columns });
}

function readConstraint(r: BsatnReader): RawConstraintDefV9 {
    const name = optString(r);
    const at = r.offset;
    const tag = r.tag();
    if (tag !== 0) throw new BsatnError(`unknown RawConstraintDataV9 tag ${tag} at offset ${at}`);
    return omitUndefined({ name, unique: colList(r) });
}

function readSequence(r: BsatnReader): RawSequenceDefV9 {
    const name = optString(r);
    const column = r.u16();
    const start = r.option((x) => x.i128());
    const minValue = r.option((x) => x.i128());
    const maxValue = r.option((x) => x.i128());
    const increment = r.i128();
    return omitUndefined({ name, column, start, minValue, maxValue, increment });
}

function readSchedule(r: BsatnReader): RawScheduleDefV9 {
    const name = optString(r);
    const reducerName = r.string();
    const scheduledAtColumn = r.u16();
    return omitUndefined({ name, reducerName, scheduledAtColumn });
}

function readUnitEnum<T extends string>(r: BsatnReader, what: string, names: readonly T[]): T {
    const at = r.offset;
    const tag = r.tag();
    const v = names[tag];
    if (v === undefined) throw new BsatnError(`unknown ${what} tag ${tag} at offset ${at}`);
    return v;
}

function readTable(r: BsatnReader): RawTableDefV9 {
    const name = r.string();
    const productTypeRef = r.u32();
    const primaryKey = colList(r);
    const indexes = r.array(readIndex);
    const constraints = r.array(readConstraint);
    const sequences = r.array(readSequence);
    const schedule = r.option(readSchedule);
    const tableType = readUnitEnum(r, "TableType", ["system", "user"] as const);
    const tableAccess = readUnitEnum(r, "TableAccess", ["public", "private"] as const);
    return omitUndefined({ name, productTypeRef, primaryKey, indexes, constraints, sequences, schedule, tableType, tableAccess });
}

const LIFECYCLES: readonly Lifecycle[] = ["init", "on_connect", "on_disconnect"];

function readReducer(r: BsatnReader): RawReducerDefV9 {
    const name = r.string();
    const params = r.array(readTypeField);
    const lifecycle = r.option((x) => readUnitEnum(x, "Lifecycle", LIFECYCLES));
    return omitUndefined({ name, params, lifecycle });
}

function readTypeDef(r: BsatnReader): RawTypeDefV9 {
    const scope = r.array((x) => x.string());
    const name = r.string();
    const ref = r.u32();
    const customOrdering = r.bool();
    return { scope, name, ref, customOrdering };
}

/** Decodes `bsatn(RawModuleDef)`; only the `V9` variant (what 1.x modules emit) is supported. */
export function decodeRawModuleDef(bytes: Uint8Array): RawModuleDefV9 {
    const r = new BsatnReader(bytes);
    const tag = r.tag();
    if (tag === 0) throw new ModuleDefError("module emitted RawModuleDef::V8BackCompat (pre-1.0 ABI); only RawModuleDef::V9 is supported");
    if (tag !== 1) throw new ModuleDefError(`unknown RawModuleDef variant tag ${tag}`);
    const typespace = r.array(readAlgebraicType);
    const tables = r.array(readTable);
    const reducers = r.array(readReducer);
    const types = r.array(readTypeDef);
    const miscExports = r.u32();
    if (miscExports !== 0) throw new ModuleDefError(`RawMiscModuleExportV9 has no variants in 1.2, but ${miscExports} were emitted`);
    const rowLevelSecurity = r.array((x) => x.string());
    r.end();
    return { typespace, tables, reducers, types, miscExports, rowLevelSecurity };
}

// ---------------------------------------------------------------------------
// Running __describe_module__

// The tsconfig has no DOM lib (and @types/node does not declare `WebAssembly`):
// type the few pieces of the global JS API used here.
interface WasmModule {
    readonly __wasmModule?: never;
}
interface WasmMemory {
    readonly buffer: ArrayBuffer;
}
interface WasmInstance {
    readonly exports: Record<string, unknown>;
}
// Host functions return an i32, or nothing (void).
type WasmImportValue = ((...args: number[]) => number) | ((...args: number[]) => void);
interface WasmApi {
    compile(bytes: Uint8Array): Promise<WasmModule>;
    instantiate(module: WasmModule, imports: Record<string, Record<string, WasmImportValue>>): Promise<WasmInstance>;
    Module: {
        exports(module: WasmModule): { name: string; kind: string }[];
        imports(module: WasmModule): { module: string; name: string; kind: string }[];
    };
}
const Wasm: WasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const STANDARD_BYTES_SINK = 1;
const SETUP_ERROR_SINK = 2;
const ERRNO_NO_SUCH_BYTES = 8;

/** Result of running the describer: the BSATN bytes and whatever the module logged. */
export interface DescribeOutput {
    bsatn: Uint8Array;
    logs: string[];
}

/**
 * Instantiates the wasm with stub `spacetime_10.x` imports, runs the preinit exports and
 * `__describe_module__`, and returns the bytes it wrote to the sink.
 */
export async function describeWasmBsatn(wasm: Uint8Array): Promise<DescribeOutput> {
    let module: WasmModule;
    try {
        module = await Wasm.compile(wasm);
    } catch (e) {
        throw new ModuleDefError(`not a valid wasm module: ${(e as Error).message}`);
    }
    const exportNames = Wasm.Module.exports(module).map((e) => e.name);
    if (!exportNames.includes("__describe_module__")) throw new ModuleDefError("wasm has no __describe_module__ export (not a SpacetimeDB module?)");
    if (!exportNames.includes("memory")) throw new ModuleDefError("wasm exports no memory");

    let memory: WasmMemory | undefined;
    const mem = (): Uint8Array => {
        if (memory === undefined) throw new ModuleDefError("host call before memory is available");
        return new Uint8Array(memory.buffer);
    };
    const sinks = new Map<number, Uint8Array[]>();
    const logs: string[] = [];
    const decoder = new TextDecoder("utf-8");
    const readStr = (ptr: number, len: number): string => decoder.decode(mem().subarray(ptr, ptr + len));

    const implemented: Record<string, WasmImportValue> = {
        bytes_sink_write: (sink: number, bufPtr: number, lenPtr: number): number => {
            const chunks = sinks.get(sink);
            if (chunks === undefined) return ERRNO_NO_SUCH_BYTES;
            const view = new DataView(mem().buffer);
            const len = view.getUint32(lenPtr, true);
            chunks.push(mem().slice(bufPtr, bufPtr + len));
            return 0;
        },
        console_log: (level: number, _tp: number, _tl: number, _fp: number, _fl: number, _line: number, msgPtr: number, msgLen: number): void => {
            const levels = ["error", "warn", "info", "debug", "trace", "panic"];
            logs.push(`${levels[level] ?? `level${level}`}: ${readStr(msgPtr, msgLen)}`);
        },
        console_timer_start: (): number => 0,
        console_timer_end: (): number => 0,
    };

    const importObject: Record<string, Record<string, WasmImportValue>> = {};
    for (const imp of Wasm.Module.imports(module)) {
        if (imp.kind !== "function") throw new ModuleDefError(`unsupported ${imp.kind} import ${imp.module}.${imp.name}`);
        const ns = (importObject[imp.module] ??= {});
        const impl = imp.module.startsWith("spacetime_") ? implemented[imp.name] : undefined;
        ns[imp.name] =
            impl ??
            ((): never => {
                throw new ModuleDefError(`${imp.module}.${imp.name} was called while describing the module (not available without a server)`);
            });
    }

    const instance = await Wasm.instantiate(module, importObject);
    memory = instance.exports["memory"] as WasmMemory;
    const call = (name: string, ...args: number[]): unknown => {
        const f = instance.exports[name];
        if (typeof f !== "function") throw new ModuleDefError(`export ${name} is not a function`);
        try {
            return (f as (...a: number[]) => unknown)(...args);
        } catch (e) {
            const tail = logs.length > 0 ? `; module log: ${logs.slice(-5).join(" | ")}` : "";
            throw new ModuleDefError(`${name} trapped: ${(e as Error).message}${tail}`);
        }
    };

    // Host order: preinits sorted (module_host_actor.rs sorts them), then __setup__, then the describer.
    for (const name of exportNames.filter((n) => n.startsWith("__preinit__")).sort()) call(name);
    if (exportNames.includes("__setup__")) {
        sinks.set(SETUP_ERROR_SINK, []);
        const code = call("__setup__", SETUP_ERROR_SINK);
        if (code !== 0) {
            const err = decoder.decode(concat(sinks.get(SETUP_ERROR_SINK) ?? []));
            throw new ModuleDefError(`__setup__ failed (${String(code)}): ${err}`);
        }
        sinks.delete(SETUP_ERROR_SINK);
    }
    sinks.set(STANDARD_BYTES_SINK, []);
    call("__describe_module__", STANDARD_BYTES_SINK);
    const bsatn = concat(sinks.get(STANDARD_BYTES_SINK) ?? []);
    if (bsatn.byteLength === 0) throw new ModuleDefError("__describe_module__ wrote nothing to its sink");
    return { bsatn, logs };
}

function concat(chunks: Uint8Array[]): Uint8Array {
    const total = chunks.reduce((n, c) => n + c.byteLength, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
        out.set(c, at);
        at += c.byteLength;
    }
    return out;
}

/** Raw (un-normalized) definition of a wasm module. */
export async function describeWasmRaw(wasm: Uint8Array): Promise<RawModuleDefV9> {
    const { bsatn } = await describeWasmBsatn(wasm);
    return decodeRawModuleDef(bsatn);
}

/** The module definition of a SpacetimeDB 1.x wasm module, without a server. */
export async function describeWasm(wasm: Uint8Array): Promise<ModuleDef> {
    return normalizeModuleDef(await describeWasmRaw(wasm));
}

// ---------------------------------------------------------------------------
// Normalization (names as crates/schema/src/def/validate/v9.rs generates them)

function columnNameFor(elements: TypeField[], col: number): string {
    // validate/v9.rs `column_name`: the element's name, else `col_{n}`.
    return elements[col]?.name ?? `col_${col}`;
}

export function generateIndexName(table: string, elements: TypeField[], algorithm: IndexAlgorithmKind, columns: number[]): string {
    return `${table}_${columns.map((c) => columnNameFor(elements, c)).join("_")}_idx_${algorithm}`;
}

export function generateUniqueConstraintName(table: string, elements: TypeField[], columns: number[]): string {
    return `${table}_${columns.map((c) => columnNameFor(elements, c)).join("_")}_key`;
}

export function generateSequenceName(table: string, elements: TypeField[], column: number): string {
    return `${table}_${columnNameFor(elements, column)}_seq`;
}

export function generateScheduleName(table: string): string {
    return `${table}_sched`;
}

/** Turns a `RawModuleDefV9` (from a wasm or from a server) into a `ModuleDef`. */
export function normalizeModuleDef(raw: RawModuleDefV9): ModuleDef {
    const typeNames = new Map<number, string>();
    for (const t of raw.types) typeNames.set(t.ref, [...t.scope, t.name].join("::"));
    const render = (t: AlgebraicType): string => renderType(t, typeNames);

    const tables: TableDef[] = raw.tables.map((t) => {
        const rowType = raw.typespace[t.productTypeRef];
        if (rowType === undefined || rowType.kind !== "product") {
            throw new ModuleDefError(`table ${t.name}: product_type_ref ${t.productTypeRef} is not a product type in the typespace`);
        }
        const elements = rowType.elements;
        const colName = (c: number): string => elements[c]?.name ?? String(c);
        const columns: ColumnDef[] = elements.map((e, i) => ({ name: e.name ?? String(i), colId: i, type: e.type, typeName: render(e.type) }));
        if (t.primaryKey.length > 1) throw new ModuleDefError(`table ${t.name}: more than one primary-key column`);
        const pk = t.primaryKey[0];
        const indexes: IndexDef[] = t.indexes.map((ix) =>
            omitUndefined({
                name: ix.name ?? generateIndexName(t.name, elements, ix.algorithm, ix.columns),
                accessorName: ix.accessorName,
                algorithm: ix.algorithm,
                columns: ix.columns.map(colName),
                colIds: [...ix.columns],
            }),
        );
        const constraints: ConstraintDef[] = t.constraints.map((c) => {
            // A unique constraint's columns are a ColSet: sorted and deduplicated.
            const ids = [...new Set(c.unique)].sort((a, b) => a - b);
            return {
                name: c.name ?? generateUniqueConstraintName(t.name, elements, c.unique),
                kind: "unique" as const,
                columns: ids.map(colName),
                colIds: ids,
            };
        });
        const sequences: SequenceDef[] = t.sequences.map((s) =>
            omitUndefined({
                name: s.name ?? generateSequenceName(t.name, elements, s.column),
                column: colName(s.column),
                colId: s.column,
                start: s.start,
                minValue: s.minValue,
                maxValue: s.maxValue,
                increment: s.increment,
            }),
        );
        const schedule: ScheduleDef | undefined =
            t.schedule === undefined
                ? undefined
                : {
                      name: t.schedule.name ?? generateScheduleName(t.name),
                      reducer: t.schedule.reducerName,
                      column: colName(t.schedule.scheduledAtColumn),
                      colId: t.schedule.scheduledAtColumn,
                  };
        return omitUndefined({
            name: t.name,
            productTypeRef: t.productTypeRef,
            columns,
            primaryKey: pk === undefined ? undefined : colName(pk),
            indexes: sortByName(indexes),
            constraints: sortByName(constraints),
            sequences: sortByName(sequences),
            schedule,
            tableType: t.tableType,
            access: t.tableAccess,
        });
    });

    const reducers: ReducerDef[] = raw.reducers.map((r) =>
        omitUndefined({
            name: r.name,
            params: r.params.map((p, i) => ({ name: p.name ?? String(i), type: p.type, typeName: render(p.type) })),
            lifecycle: r.lifecycle,
        }),
    );
    const types: TypeDef[] = raw.types.map((t) => ({ name: [...t.scope, t.name].join("::"), ref: t.ref, customOrdering: t.customOrdering }));

    return {
        tables: sortByName(tables),
        reducers: sortByName(reducers),
        types: sortByName(types),
        typespace: raw.typespace,
        rowLevelSecurity: [...raw.rowLevelSecurity],
    };
}

function sortByName<T extends { name: string }>(xs: T[]): T[] {
    return [...xs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Drops keys whose value is `undefined` (keeps JSON fixtures and deep-equality clean). */
export function omitUndefined<T extends object>(o: T): T {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
    return out as T;
}

// ---------------------------------------------------------------------------
// Types: resolution and rendering

/** Replaces every `ref` with the referenced type (as `WithTypespace::resolve_refs` does). */
export function resolveRefs(t: AlgebraicType, typespace: AlgebraicType[], seen: number[] = []): AlgebraicType {
    switch (t.kind) {
        case "ref": {
            if (seen.includes(t.ref)) throw new ModuleDefError(`recursive type ref ${t.ref}`);
            const target = typespace[t.ref];
            if (target === undefined) throw new ModuleDefError(`dangling type ref ${t.ref}`);
            return resolveRefs(target, typespace, [...seen, t.ref]);
        }
        case "sum":
            return { kind: "sum", variants: t.variants.map((v) => resolveField(v, typespace, seen)) };
        case "product":
            return { kind: "product", elements: t.elements.map((e) => resolveField(e, typespace, seen)) };
        case "array":
            return { kind: "array", elem: resolveRefs(t.elem, typespace, seen) };
        default:
            return t;
    }
}

function resolveField(f: TypeField, typespace: AlgebraicType[], seen: number[]): TypeField {
    const type = resolveRefs(f.type, typespace, seen);
    return f.name === undefined ? { type } : { name: f.name, type };
}

/** Structural equality of two types (names included, as SATS equality does). */
export function typesEqual(a: AlgebraicType, b: AlgebraicType): boolean {
    if (a.kind !== b.kind) return false;
    switch (a.kind) {
        case "ref":
            return a.ref === (b as { ref: number }).ref;
        case "array":
            return typesEqual(a.elem, (b as { elem: AlgebraicType }).elem);
        case "sum":
            return fieldsEqual(a.variants, (b as { variants: TypeField[] }).variants);
        case "product":
            return fieldsEqual(a.elements, (b as { elements: TypeField[] }).elements);
        default:
            return true;
    }
}

function fieldsEqual(a: TypeField[], b: TypeField[]): boolean {
    return a.length === b.length && a.every((f, i) => f.name === b[i]!.name && typesEqual(f.type, b[i]!.type));
}

const SPECIAL_PRODUCTS: Record<string, string> = {
    __identity__: "Identity",
    __connection_id__: "ConnectionId",
    __timestamp_micros_since_unix_epoch__: "Timestamp",
    __time_duration_micros__: "TimeDuration",
};

const PRIMITIVE_NAMES: Record<PrimitiveKind, string> = {
    string: "String",
    bool: "bool",
    i8: "i8",
    u8: "u8",
    i16: "i16",
    u16: "u16",
    i32: "i32",
    u32: "u32",
    i64: "i64",
    u64: "u64",
    i128: "i128",
    u128: "u128",
    i256: "i256",
    u256: "u256",
    f32: "f32",
    f64: "f64",
};

/** Renders a type for humans: `u64`, `Option<String>`, `Identity`, `Vec<u8>`, `ScheduleAt`, named refs. */
export function renderType(t: AlgebraicType, typeNames: Map<number, string> = new Map()): string {
    const r = (x: AlgebraicType): string => renderType(x, typeNames);
    switch (t.kind) {
        case "ref":
            return typeNames.get(t.ref) ?? `&${t.ref}`;
        case "array":
            return `Vec<${r(t.elem)}>`;
        case "product": {
            const only = t.elements.length === 1 ? t.elements[0] : undefined;
            const special = only?.name === undefined ? undefined : SPECIAL_PRODUCTS[only.name];
            if (special !== undefined) return special;
            if (t.elements.length === 0) return "()";
            return `{ ${t.elements.map((e, i) => `${e.name ?? i}: ${r(e.type)}`).join(", ")} }`;
        }
        case "sum": {
            const [a, b] = t.variants;
            if (t.variants.length === 2 && a?.name === "some" && b?.name === "none" && b.type.kind === "product" && b.type.elements.length === 0) {
                return `Option<${r(a.type)}>`;
            }
            if (t.variants.length === 2 && a?.name === "Interval" && b?.name === "Time" && r(a.type) === "TimeDuration" && r(b.type) === "Timestamp") {
                return "ScheduleAt";
            }
            return `(${t.variants
                .map((v, i) => {
                    const unit = v.type.kind === "product" && v.type.elements.length === 0;
                    return unit ? `${v.name ?? i}` : `${v.name ?? i}(${r(v.type)})`;
                })
                .join(" | ")})`;
        }
        default:
            return PRIMITIVE_NAMES[t.kind];
    }
}
