import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { BsatnError, BsatnReader } from "../../../infra/spacetimedb/bsatn.ts";
import {
    type AlgebraicType,
    decodeRawModuleDef,
    describeWasm,
    describeWasmBsatn,
    ModuleDefError,
    normalizeModuleDef,
    renderType,
    resolveRefs,
} from "../../../infra/spacetimedb/moduleDef.ts";
import { parseServerSchema, parseServerSchemaText, ServerSchemaError, schemaPath } from "../../../infra/spacetimedb/serverSchema.ts";

const root = path.resolve(__dirname, "../../..");
const fixtures = path.join(root, "test/fixtures/spacetimedb");
const gunzip = (name: string): Uint8Array => new Uint8Array(zlib.gunzipSync(fs.readFileSync(path.join(fixtures, name))));
// IU_MODULE_WASM=<path> checks a fresh build of module/ instead of the committed fixture.
const moduleWasm = (): Uint8Array => (process.env["IU_MODULE_WASM"] ? new Uint8Array(fs.readFileSync(process.env["IU_MODULE_WASM"])) : gunzip("module.wasm.gz"));

/** `#[table(name = x, public?)]` attributes in module/src/tables.rs. */
function sourceTables(): { name: string; public: boolean }[] {
    const src = fs.readFileSync(path.join(root, "module/src/tables.rs"), "utf8");
    return [...src.matchAll(/#\[table\(([^\]]*)\)\]/g)].map((m) => {
        const attr = m[1]!;
        return { name: /name\s*=\s*(\w+)/.exec(attr)![1]!, public: /(^|,)\s*public\s*(,|$)/.test(attr) };
    });
}

/** `#[reducer(...)] pub fn name` in module/src/**. */
function sourceReducers(): { name: string; lifecycle?: string }[] {
    const out: { name: string; lifecycle?: string }[] = [];
    const walk = (dir: string): void => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
            const p = path.join(dir, e.name);
            if (e.isDirectory()) walk(p);
            else if (e.name.endsWith(".rs")) {
                const src = fs.readFileSync(p, "utf8");
                for (const m of src.matchAll(/#\[reducer(?:\(([^)]*)\))?\]\s*(?:#\[[^\]]*\]\s*)*pub fn (\w+)/g)) {
                    const arg = m[1]?.trim();
                    const lifecycle = arg === "init" ? "init" : arg === "client_connected" ? "on_connect" : arg === "client_disconnected" ? "on_disconnect" : undefined;
                    out.push(lifecycle === undefined ? { name: m[2]! } : { name: m[2]!, lifecycle });
                }
            }
        }
    };
    walk(path.join(root, "module/src"));
    return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

describe("describeWasm on the real module (module/, spacetimedb =1.2.0)", () => {
    it("names exactly the tables of module/src/tables.rs, with their access", async () => {
        const def = await describeWasm(moduleWasm());
        const expected = sourceTables().sort((a, b) => (a.name < b.name ? -1 : 1));
        expect(expected.length).toBeGreaterThanOrEqual(10);
        expect(def.tables.map((t) => ({ name: t.name, public: t.access === "public" }))).toEqual(expected);
        expect(def.tables.every((t) => t.tableType === "user")).toBe(true);
    });

    it("names exactly the reducers of module/src, with their lifecycles", async () => {
        const def = await describeWasm(moduleWasm());
        const expected = sourceReducers();
        expect(expected.map((r) => r.name)).toContain("set_config");
        expect(def.reducers.map((r) => (r.lifecycle === undefined ? { name: r.name } : { name: r.name, lifecycle: r.lifecycle }))).toEqual(expected);
    });

    it("decodes columns in order with types, keys, indexes, constraints, sequences and the schedule", async () => {
        const def = await describeWasm(moduleWasm());
        const table = (n: string) => def.tables.find((t) => t.name === n)!;
        const config = table("config");
        expect(config.columns.map((c) => `${c.colId}:${c.name}:${c.typeName}`)).toEqual([
            "0:key:String",
            "1:value:String",
            "2:description:Option<String>",
            "3:updated_at:Timestamp",
            "4:updated_by:Identity",
        ]);
        expect(config.primaryKey).toBe("key");
        expect(config.indexes).toEqual([{ name: "config_key_idx_btree", accessorName: "key", algorithm: "btree", columns: ["key"], colIds: [0] }]);
        expect(config.constraints).toEqual([{ name: "config_key_key", kind: "unique", columns: ["key"], colIds: [0] }]);
        expect(config.sequences).toEqual([]);

        const eventLog = table("event_log");
        expect(eventLog.access).toBe("private");
        expect(eventLog.indexes.map((i) => i.name)).toEqual(["event_log_event_type_idx_btree", "event_log_id_idx_btree"]);
        expect(eventLog.sequences).toEqual([{ name: "event_log_id_seq", column: "id", colId: 0, increment: "1" }]);

        const sched = table("metrics_schedule");
        expect(sched.schedule).toEqual({ name: "metrics_schedule_sched", reducer: "record_metrics", column: "scheduled_at", colId: 1 });
        expect(sched.columns.map((c) => c.typeName)).toEqual(["u64", "ScheduleAt"]);

        const recordMetrics = def.reducers.find((r) => r.name === "record_metrics")!;
        expect(recordMetrics.params.map((p) => `${p.name}: ${p.typeName}`)).toEqual(["_tick: MetricsSchedule"]);
        expect(def.types.map((t) => t.name)).toContain("Config");
    });

    it("equals what the real 1.2 server answers on GET /v1/database/<name>/schema?version=9 for the same wasm", async () => {
        const fromWasm = await describeWasm(gunzip("module.wasm.gz"));
        const text = fs.readFileSync(path.join(fixtures, "server-schema-v9.json"), "utf8");
        expect(parseServerSchemaText(text)).toEqual(fromWasm);
        expect(parseServerSchema(JSON.parse(text))).toEqual(fromWasm);
    });

    it("describes the add-table and add-column variants built from copies of module/", async () => {
        const withTable = await describeWasm(gunzip("module-add-table.wasm.gz"));
        const probe = withTable.tables.find((t) => t.name === "e2e_probe")!;
        expect(probe.columns.map((c) => `${c.name}:${c.typeName}`)).toEqual(["id:u64", "note:String"]);
        expect(probe.access).toBe("public");
        const withColumn = await describeWasm(gunzip("module-add-column.wasm.gz"));
        expect(withColumn.tables.find((t) => t.name === "version_counter")!.columns.map((c) => c.name)).toEqual(["id", "last_version", "extra"]);
    });

    it("runs the preinits, then the describer, and never needs another host call", async () => {
        const { bsatn, logs } = await describeWasmBsatn(moduleWasm());
        expect(bsatn[0]).toBe(1); // RawModuleDef::V9
        expect(logs).toEqual([]);
    });

    it("rejects bytes that are not a SpacetimeDB module", async () => {
        await expect(describeWasm(new Uint8Array([1, 2, 3]))).rejects.toThrow(ModuleDefError);
        // The smallest valid wasm: magic + version, no exports.
        await expect(describeWasm(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]))).rejects.toThrow(/no __describe_module__/);
    });
});

// --- BSATN decoding, on hand-encoded bytes -----------------------------------

class W {
    private out: number[] = [];
    u8(v: number): this {
        this.out.push(v & 0xff);
        return this;
    }
    u16(v: number): this {
        return this.u8(v).u8(v >> 8);
    }
    u32(v: number): this {
        return this.u16(v & 0xffff).u16(v >>> 16);
    }
    i128(v: bigint): this {
        const x = BigInt.asUintN(128, v);
        for (let i = 0n; i < 16n; i++) this.u8(Number((x >> (8n * i)) & 0xffn));
        return this;
    }
    str(s: string): this {
        const b = Buffer.from(s, "utf8");
        this.u32(b.length);
        for (const c of b) this.u8(c);
        return this;
    }
    arr<T>(xs: T[], f: (w: this, x: T) => void): this {
        this.u32(xs.length);
        for (const x of xs) f(this, x);
        return this;
    }
    some(f: (w: this) => void): this {
        this.u8(0);
        f(this);
        return this;
    }
    none(): this {
        return this.u8(1);
    }
    bytes(): Uint8Array {
        return new Uint8Array(this.out);
    }
}

/** bsatn(RawModuleDef::V9) with one table `t(id: u64 auto_inc pk, tags: Vec<String>, kind: &1)`. */
function tinyModuleDef(): Uint8Array {
    const w = new W().u8(1);
    // typespace: [0] product{id: u64, tags: array<string>, kind: ref 1}, [1] sum{a: (), b: u8}
    w.arr([0, 1], (w, i) => {
        if (i === 0) {
            w.u8(2).arr(
                [
                    ["id", (w: W) => w.u8(4 + 9)],
                    ["tags", (w: W) => w.u8(3).u8(4)],
                    ["kind", (w: W) => w.u8(0).u32(1)],
                ] as const,
                (w, [n, t]) => {
                    w.some((w) => w.str(n));
                    t(w);
                },
            );
        } else {
            w.u8(1).arr(["a", "b"], (w, n) => {
                w.some((w) => w.str(n));
                if (n === "a") w.u8(2).u32(0);
                else w.u8(4 + 3);
            });
        }
    });
    // tables
    w.arr([0], (w) => {
        w.str("t").u32(0);
        w.arr([0], (w, c) => w.u16(c)); // primary_key
        w.arr([0, 1], (w, i) => {
            w.none(); // name
            if (i === 0)
                w.some((w) => w.str("id"))
                    .u8(0)
                    .arr([0], (w, c) => w.u16(c));
            else w.none().u8(2).u16(2); // direct on kind
        });
        w.arr([0], (w) =>
            w
                .none()
                .u8(0)
                .arr([0], (w, c) => w.u16(c)),
        ); // unique(id)
        w.arr([0], (w) =>
            w
                .none()
                .u16(0)
                .some((w) => w.i128(-5n))
                .none()
                .some((w) => w.i128(2n ** 100n))
                .i128(1n),
        );
        w.none(); // schedule
        w.u8(1).u8(1); // User, Private
    });
    // reducers
    w.arr([0], (w) =>
        w
            .str("go")
            .arr([0], (w) => w.some((w) => w.str("n")).u8(4 + 7))
            .some((w) => w.u8(1)),
    );
    // types
    w.arr([0], (w) =>
        w
            .arr(["ns"], (w, s) => w.str(s))
            .str("T")
            .u32(0)
            .u8(1),
    );
    w.u32(0); // misc_exports
    w.arr(["SELECT * FROM t"], (w, s) => w.str(s));
    return w.bytes();
}

describe("BSATN RawModuleDef decoder", () => {
    it("decodes every field of a hand-encoded V9 def", () => {
        const raw = decodeRawModuleDef(tinyModuleDef());
        expect(raw.tables[0]).toEqual({
            name: "t",
            productTypeRef: 0,
            primaryKey: [0],
            indexes: [
                { accessorName: "id", algorithm: "btree", columns: [0] },
                { algorithm: "direct", columns: [2] },
            ],
            constraints: [{ unique: [0] }],
            sequences: [{ column: 0, start: "-5", maxValue: (2n ** 100n).toString(), increment: "1" }],
            tableType: "user",
            tableAccess: "private",
        });
        expect(raw.reducers).toEqual([{ name: "go", params: [{ name: "n", type: { kind: "u32" } }], lifecycle: "on_connect" }]);
        expect(raw.types).toEqual([{ scope: ["ns"], name: "T", ref: 0, customOrdering: true }]);
        expect(raw.rowLevelSecurity).toEqual(["SELECT * FROM t"]);

        const def = normalizeModuleDef(raw);
        const t = def.tables[0]!;
        expect(t.columns.map((c) => `${c.name}:${c.typeName}`)).toEqual(["id:u64", "tags:Vec<String>", "kind:&1"]);
        // Names generated as crates/schema/src/def/validate/v9.rs does.
        expect(t.indexes.map((i) => i.name)).toEqual(["t_id_idx_btree", "t_kind_idx_direct"]);
        expect(t.constraints.map((c) => c.name)).toEqual(["t_id_key"]);
        expect(t.sequences.map((s) => s.name)).toEqual(["t_id_seq"]);
        expect(def.types.map((x) => x.name)).toEqual(["ns::T"]);
    });

    it.each([
        ["V8 back-compat variant", new Uint8Array([0]), /V8BackCompat/],
        ["unknown variant", new Uint8Array([7]), /unknown RawModuleDef variant/],
        ["truncated input", tinyModuleDef().subarray(0, 40), BsatnError],
        ["trailing bytes", new Uint8Array([...tinyModuleDef(), 0]), /trailing bytes/],
    ])("rejects %s", (_label, bytes, err) => {
        expect(() => decodeRawModuleDef(bytes)).toThrow(err);
    });

    it("reads Option as some = 0 / none = 1 and i128 two's complement", () => {
        const r = new BsatnReader(
            new W()
                .some((w) => w.u8(9))
                .none()
                .i128(-1n)
                .i128(170141183460469231731687303715884105727n)
                .bytes(),
        );
        expect(r.option((x) => x.u8())).toBe(9);
        expect(r.option((x) => x.u8())).toBeUndefined();
        expect(r.i128()).toBe("-1");
        expect(r.i128()).toBe("170141183460469231731687303715884105727");
        r.end();
    });
});

describe("types", () => {
    const ts: AlgebraicType[] = [{ kind: "product", elements: [{ name: "__identity__", type: { kind: "u256" } }] }];
    it("resolves refs and renders special types", () => {
        expect(resolveRefs({ kind: "array", elem: { kind: "ref", ref: 0 } }, ts)).toEqual({ kind: "array", elem: ts[0] });
        expect(renderType({ kind: "array", elem: { kind: "ref", ref: 0 } }, new Map([[0, "Who"]]))).toBe("Vec<Who>");
        expect(renderType(ts[0]!)).toBe("Identity");
        expect(() => resolveRefs({ kind: "ref", ref: 3 }, ts)).toThrow(/dangling/);
    });
});

describe("parseServerSchema (GET /v1/database/<name>/schema?version=9)", () => {
    const serverJson = (): Record<string, unknown> => JSON.parse(fs.readFileSync(path.join(fixtures, "server-schema-v9.json"), "utf8"));

    it("builds the route", () => {
        expect(schemaPath("inner-universe")).toBe("/v1/database/inner-universe/schema?version=9");
    });

    it("accepts struct-variant spellings of index algorithms and constraints, arrays, and exact big i128", () => {
        const j = serverJson() as { tables: Record<string, unknown>[]; typespace: { types: unknown[] } };
        const t = j.tables.find((x) => x["name"] === "entity")! as { indexes: { algorithm: unknown }[]; constraints: { data: unknown }[]; sequences: Record<string, unknown>[] };
        t.indexes[0]!.algorithm = { BTree: { columns: [1] } };
        t.constraints[0]!.data = { Unique: [0] };
        const text = JSON.stringify(j).replace('"max_value":{"none":[]}', '"max_value":{"some":170141183460469231731687303715884105727}');
        const def = parseServerSchemaText(text);
        const entity = def.tables.find((x) => x.name === "entity")!;
        expect(entity.indexes.find((i) => i.colIds[0] === 1)!.columns).toEqual(["entity_type"]);
        expect(entity.sequences[0]!.maxValue).toBe("170141183460469231731687303715884105727");

        const arrJson = {
            ...serverJson(),
            typespace: { types: [{ Product: { elements: [{ name: { some: "b" }, algebraic_type: { Array: { U8: [] } } }] } }] },
            tables: [],
            types: [],
            reducers: [],
        };
        expect(parseServerSchema(arrJson).typespace).toEqual([{ kind: "product", elements: [{ name: "b", type: { kind: "array", elem: { kind: "u8" } } }] }]);
    });

    it.each([
        ["not an object", [], /expected an object/],
        ["a table without a name", { ...{ typespace: { types: [] }, reducers: [], types: [] }, tables: [{}] }, /\$\.tables\[0\]\.name/],
        ["an unknown type variant", { typespace: { types: [{ Nope: [] }] }, tables: [], reducers: [], types: [] }, /unknown AlgebraicType variant Nope/],
    ])("rejects %s with the JSON path", (_l, json, err) => {
        expect(() => parseServerSchema(json)).toThrow(ServerSchemaError);
        expect(() => parseServerSchema(json)).toThrow(err);
    });
});
