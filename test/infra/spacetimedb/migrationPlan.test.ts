import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { formatPlan, type MigrationPlan, planMigration, publishDecision } from "../../../infra/spacetimedb/migrationPlan.ts";
import { type AlgebraicType, describeWasm, type ModuleDef, normalizeModuleDef, type RawModuleDefV9, type RawTableDefV9 } from "../../../infra/spacetimedb/moduleDef.ts";
import type { DeleteDataPolicy } from "../../../infra/spacetimedb/protocol-impl.ts";
import { parseServerSchemaText } from "../../../infra/spacetimedb/serverSchema.ts";

const fixtures = path.resolve(__dirname, "../../fixtures/spacetimedb");
const wasm = (name: string): Uint8Array => new Uint8Array(zlib.gunzipSync(fs.readFileSync(path.join(fixtures, name))));

// --- a small hand-written module def, varied per case ------------------------

const u64: AlgebraicType = { kind: "u64" };
const str: AlgebraicType = { kind: "string" };
const identity: AlgebraicType = { kind: "product", elements: [{ name: "__identity__", type: { kind: "u256" } }] };
const optionOf = (t: AlgebraicType): AlgebraicType => ({
    kind: "sum",
    variants: [
        { name: "some", type: t },
        { name: "none", type: { kind: "product", elements: [] } },
    ],
});

function baseRaw(): RawModuleDefV9 {
    const item: RawTableDefV9 = {
        name: "item",
        productTypeRef: 0,
        primaryKey: [0],
        indexes: [
            { accessorName: "id", algorithm: "btree", columns: [0] },
            { accessorName: "kind", algorithm: "btree", columns: [1] },
        ],
        constraints: [{ unique: [0] }],
        sequences: [{ column: 0, increment: "1" }],
        tableType: "user",
        tableAccess: "public",
    };
    const owner: RawTableDefV9 = {
        name: "owner",
        productTypeRef: 1,
        primaryKey: [0],
        indexes: [{ accessorName: "who", algorithm: "btree", columns: [0] }],
        constraints: [{ unique: [0] }],
        sequences: [],
        tableType: "user",
        tableAccess: "private",
    };
    const tick: RawTableDefV9 = {
        name: "tick",
        productTypeRef: 3,
        primaryKey: [0],
        indexes: [{ accessorName: "id", algorithm: "btree", columns: [0] }],
        constraints: [{ unique: [0] }],
        sequences: [{ column: 0, increment: "1" }],
        schedule: { reducerName: "on_tick", scheduledAtColumn: 1 },
        tableType: "user",
        tableAccess: "private",
    };
    return {
        typespace: [
            {
                kind: "product",
                elements: [
                    { name: "id", type: u64 },
                    { name: "kind", type: str },
                    { name: "note", type: optionOf(str) },
                    { name: "owner", type: { kind: "ref", ref: 2 } },
                ],
            },
            {
                kind: "product",
                elements: [
                    { name: "who", type: identity },
                    { name: "since", type: u64 },
                ],
            },
            identity,
            {
                kind: "product",
                elements: [
                    { name: "id", type: u64 },
                    { name: "at", type: u64 },
                ],
            },
        ],
        tables: [item, owner, tick],
        reducers: [
            { name: "init", params: [], lifecycle: "init" },
            { name: "add_item", params: [{ name: "kind", type: str }] },
            { name: "on_tick", params: [{ name: "t", type: { kind: "ref", ref: 3 } }] },
        ],
        types: [{ scope: [], name: "Item", ref: 0, customOrdering: true }],
        miscExports: 0,
        rowLevelSecurity: [],
    };
}

const base = (): ModuleDef => normalizeModuleDef(baseRaw());
const variant = (edit: (raw: RawModuleDefV9) => void): ModuleDef => {
    const raw = structuredClone(baseRaw());
    edit(raw);
    return normalizeModuleDef(raw);
};
const table = (raw: RawModuleDefV9, name: string): RawTableDefV9 => raw.tables.find((t) => t.name === name)!;
const rowType = (raw: RawModuleDefV9, ref: number) => raw.typespace[ref] as { kind: "product"; elements: { name?: string; type: AlgebraicType }[] };

type Expect = [kind: string, target: string, accepted: boolean];

const cases: [label: string, edit: (raw: RawModuleDefV9) => void, steps: Expect[], accepted: boolean][] = [
    ["no change", () => {}, [], true],
    [
        "adding a table (its indexes, constraints and sequences come with it)",
        (r) => {
            r.typespace.push({ kind: "product", elements: [{ name: "id", type: u64 }] });
            r.tables.push({
                name: "probe",
                productTypeRef: 4,
                primaryKey: [0],
                indexes: [{ accessorName: "id", algorithm: "btree", columns: [0] }],
                constraints: [{ unique: [0] }],
                sequences: [{ column: 0, increment: "1" }],
                tableType: "user",
                tableAccess: "public",
            });
        },
        [["table-added", "table probe", true]],
        true,
    ],
    ["removing a table", (r) => void r.tables.splice(1, 1), [["table-removed", "table owner", false]], false],
    ["making a table private", (r) => void (table(r, "item").tableAccess = "private"), [["access-changed", "table item", true]], true],
    ["making a table public", (r) => void (table(r, "owner").tableAccess = "public"), [["access-changed", "table owner", true]], true],
    ["changing the table type", (r) => void (table(r, "owner").tableType = "system"), [["table-type-changed", "table owner", false]], false],
    ["adding a column at the end", (r) => void rowType(r, 1).elements.push({ name: "extra", type: u64 }), [["column-added", "column owner.extra", false]], false],
    ["removing the last column", (r) => void rowType(r, 1).elements.pop(), [["column-removed", "column owner.since", false]], false],
    ["changing a column's type", (r) => void (rowType(r, 1).elements[1]!.type = { kind: "u32" }), [["column-type-changed", "column owner.since", false]], false],
    ["changing a column from Option<String> to String", (r) => void (rowType(r, 0).elements[2]!.type = str), [["column-type-changed", "column item.note", false]], false],
    ["inlining a ref'd column type (same type after resolving refs)", (r) => void (rowType(r, 0).elements[3]!.type = identity), [], true],
    [
        "changing the type behind a ref",
        (r) => void (r.typespace[2] = { kind: "product", elements: [{ name: "__identity__", type: { kind: "u128" } }] }),
        [["column-type-changed", "column item.owner", false]],
        false,
    ],
    [
        "swapping two columns",
        (r) => {
            const e = rowType(r, 1).elements;
            [e[0], e[1]] = [e[1]!, e[0]!];
            const o = table(r, "owner");
            o.primaryKey = [1];
            o.indexes = [{ name: "owner_who_idx_btree", accessorName: "who", algorithm: "btree", columns: [1] }];
            o.constraints = [{ name: "owner_who_key", unique: [1] }];
        },
        [
            ["column-reordered", "table owner", false],
            ["index-changed", "index owner_who_idx_btree", true],
            ["constraint-changed", "constraint owner_who_key", false],
        ],
        false,
    ],
    [
        "moving the primary key to a column that gets a new unique constraint",
        (r) => {
            const t = table(r, "item");
            t.primaryKey = [1];
            t.constraints.push({ unique: [1] });
        },
        [
            ["primary-key-changed", "table item", false],
            ["constraint-added", "constraint item_kind_key", false],
        ],
        false,
    ],
    [
        "adding an index",
        (r) => void table(r, "item").indexes.push({ accessorName: "note", algorithm: "btree", columns: [2] }),
        [["index-added", "index item_note_idx_btree", true]],
        true,
    ],
    ["removing an index", (r) => void table(r, "item").indexes.splice(1, 1), [["index-removed", "index item_kind_idx_btree", true]], true],
    [
        "changing an index's columns under the same name",
        (r) => void (table(r, "item").indexes[1] = { name: "item_kind_idx_btree", accessorName: "kind", algorithm: "btree", columns: [1, 0] }),
        [["index-changed", "index item_kind_idx_btree", true]],
        true,
    ],
    ["renaming an index's accessor", (r) => void (table(r, "item").indexes[1]!.accessorName = "by_kind"), [["index-accessor-changed", "index item_kind_idx_btree", false]], false],
    [
        "adding a unique constraint to an existing table",
        (r) => void table(r, "item").constraints.push({ unique: [1] }),
        [["constraint-added", "constraint item_kind_key", false]],
        false,
    ],
    ["removing a unique constraint", (r) => void table(r, "owner").constraints.splice(0, 1), [["constraint-removed", "constraint owner_who_key", true]], true],
    ["adding a sequence", (r) => void table(r, "owner").sequences.push({ column: 1, increment: "1" }), [["sequence-added", "sequence owner_since_seq", true]], true],
    ["removing a sequence", (r) => void (table(r, "item").sequences = []), [["sequence-removed", "sequence item_id_seq", true]], true],
    ["changing a sequence's start", (r) => void (table(r, "item").sequences[0]!.start = "1000"), [["sequence-changed", "sequence item_id_seq", true]], true],
    ["removing a schedule", (r) => void delete table(r, "tick").schedule, [["schedule-removed", "table tick", false]], false],
    [
        "adding a schedule to an existing table",
        (r) => void (table(r, "owner").schedule = { reducerName: "on_tick", scheduledAtColumn: 1 }),
        [["schedule-added", "table owner", false]],
        false,
    ],
    ["pointing a schedule at another reducer", (r) => void (table(r, "tick").schedule!.reducerName = "add_item"), [["schedule-changed", "table tick", false]], false],
    ["adding a reducer", (r) => void r.reducers.push({ name: "remove_item", params: [{ name: "id", type: u64 }] }), [["reducer-added", "reducer remove_item", true]], true],
    ["removing a reducer", (r) => void r.reducers.splice(1, 1), [["reducer-removed", "reducer add_item", true]], true],
    ["changing a reducer's params", (r) => void r.reducers[1]!.params.push({ name: "note", type: str }), [["reducer-changed", "reducer add_item", true]], true],
    ["changing a reducer's lifecycle", (r) => void (r.reducers[1]!.lifecycle = "on_connect"), [["reducer-changed", "reducer add_item", true]], true],
    ["adding a row-level-security filter", (r) => void r.rowLevelSecurity.push("SELECT * FROM item"), [["rls-added", 'row-level security "SELECT * FROM item"', true]], true],
    ["renaming an exported type only", (r) => void (r.types[0]!.name = "Thing"), [], true],
    [
        "several changes: one refusal refuses the plan",
        (r) => {
            table(r, "item").indexes.push({ accessorName: "note", algorithm: "btree", columns: [2] });
            rowType(r, 1).elements.push({ name: "extra", type: u64 });
        },
        [
            ["index-added", "index item_note_idx_btree", true],
            ["column-added", "column owner.extra", false],
        ],
        false,
    ],
];

describe("planMigration: SpacetimeDB 1.2 automatic-migration rules (crates/schema/src/auto_migrate.rs, crates/core/src/db/update.rs)", () => {
    it.each(cases)("%s", (_label, edit, steps, accepted) => {
        const plan = planMigration(base(), variant(edit));
        expect(plan.steps.map((s): Expect => [s.kind, s.target, s.accepted])).toEqual(steps);
        expect(plan.accepted).toBe(accepted);
        expect(plan.newDatabase).toBe(false);
        for (const s of plan.steps) {
            expect(s.detail.length).toBeGreaterThan(0);
            if (!s.accepted) expect(s.reason).toMatch(/manual migration|1\.2|update\.rs/);
        }
    });

    it("a brand-new database: every table is created, nothing can be refused", () => {
        const plan = planMigration(undefined, base());
        expect(plan).toEqual({
            newDatabase: true,
            accepted: true,
            steps: ["item", "owner", "tick"].map((t) => ({ kind: "table-added", target: `table ${t}`, detail: "created", accepted: true })),
        });
    });

    it("describes the change in the step", () => {
        const plan = planMigration(
            base(),
            variant((r) => void (rowType(r, 1).elements[1]!.type = optionOf(u64))),
        );
        expect(plan.steps[0]!.detail).toBe("type u64 → Option<u64>");
        const pk = planMigration(
            base(),
            variant((r) => void (table(r, "item").primaryKey = [])),
        );
        expect(pk.steps[0]).toMatchObject({ kind: "primary-key-changed", detail: "primary key id → (none)", accepted: false });
    });
});

describe("formatPlan and publishDecision", () => {
    const accepted = (): MigrationPlan =>
        planMigration(
            base(),
            variant((r) => void (table(r, "item").tableAccess = "private")),
        );
    const refused = (): MigrationPlan =>
        planMigration(
            base(),
            variant((r) => void rowType(r, 1).elements.push({ name: "extra", type: u64 })),
        );
    const fresh = (): MigrationPlan => planMigration(undefined, base());

    it.each([
        ["accepted", "never", "update", /migrated in place; all rows are kept/],
        ["accepted", "on_conflict", "update", /migrated in place; all rows are kept/],
        ["accepted", "always", "clear", /^delete_data = always: the database will be cleared on every publish: every row in every table is deleted$/],
        ["refused", "never", "refuse", /^delete_data = never: the publish would be refused by the server; the deploy must fail before publishing$/],
        ["refused", "on_conflict", "clear", /^delete_data = on_conflict: the database will be cleared: every row in every table is deleted$/],
        ["refused", "always", "clear", /cleared on every publish/],
        ["fresh", "never", "create", /nothing to clear, the database does not exist yet/],
        ["fresh", "always", "create", /nothing to clear, the database does not exist yet/],
    ] as const)("%s plan, delete_data = %s → %s", (which, deleteData: DeleteDataPolicy, decision, lastLine) => {
        const plan = which === "accepted" ? accepted() : which === "refused" ? refused() : fresh();
        expect(publishDecision(plan, deleteData)).toBe(decision);
        const lines = formatPlan(plan, deleteData);
        expect(lines.at(-1)).toMatch(lastLine);
    });

    it("prints one line per step with its verdict", () => {
        expect(formatPlan(refused(), "never")).toEqual([
            "column owner.extra added (u64) at position 2 — refused: adding a column requires a manual migration; 1.2 cannot migrate it automatically (auto_migrate.rs AddColumn)",
            "SpacetimeDB 1.2 automatic migration: refused (1 of 1 step needs a manual migration)",
            "delete_data = never: the publish would be refused by the server; the deploy must fail before publishing",
        ]);
        expect(formatPlan(fresh(), "on_conflict")[0]).toBe("new database: it will be created with 3 tables and the init reducer runs");
        expect(formatPlan(planMigration(base(), base()), "never")[0]).toBe("no schema changes");
    });
});

describe("plans between real builds of module/ (outcomes checked once against spacetimedb-standalone 1.2.0, see test/fixtures/spacetimedb/README.md)", () => {
    it("the running schema of the same wasm, as the server reports it: no steps", async () => {
        const current = parseServerSchemaText(fs.readFileSync(path.join(fixtures, "server-schema-v9.json"), "utf8"));
        const plan = planMigration(current, await describeWasm(wasm("module.wasm.gz")));
        expect(plan).toEqual({ newDatabase: false, steps: [], accepted: true });
    });

    it("adding a table: accepted (the server answered 200 op=updated)", async () => {
        const current = parseServerSchemaText(fs.readFileSync(path.join(fixtures, "server-schema-v9.json"), "utf8"));
        const plan = planMigration(current, await describeWasm(wasm("module-add-table.wasm.gz")));
        expect(plan.accepted).toBe(true);
        expect(formatPlan(plan, "never")).toEqual([
            "table e2e_probe added — accepted",
            "SpacetimeDB 1.2 automatic migration: accepted",
            "delete_data = never: the database is migrated in place; all rows are kept",
        ]);
    });

    it("adding a column to an existing table: refused (the server answered 'Adding a column extra to table version_counter requires a manual migration')", async () => {
        const plan = planMigration(await describeWasm(wasm("module.wasm.gz")), await describeWasm(wasm("module-add-column.wasm.gz")));
        expect(plan.accepted).toBe(false);
        expect(plan.steps.map((s) => [s.kind, s.target, s.accepted])).toEqual([["column-added", "column version_counter.extra", false]]);
        expect(publishDecision(plan, "never")).toBe("refuse");
        expect(formatPlan(plan, "on_conflict").at(-1)).toBe("delete_data = on_conflict: the database will be cleared: every row in every table is deleted");
    });

    it("removing the added table again: refused (the server answered 'Removing the table e2e_probe requires a manual migration')", async () => {
        const plan = planMigration(await describeWasm(wasm("module-add-table.wasm.gz")), await describeWasm(wasm("module.wasm.gz")));
        expect(plan.steps.map((s) => [s.kind, s.target, s.accepted])).toEqual([["table-removed", "table e2e_probe", false]]);
    });

    it("making a table public, adding an index and a reducer: accepted (the server answered 200 op=updated)", async () => {
        const plan = planMigration(await describeWasm(wasm("module.wasm.gz")), await describeWasm(wasm("module-accepted-changes.wasm.gz")));
        expect(plan.steps.map((s) => [s.kind, s.target, s.accepted])).toEqual([
            ["access-changed", "table admin", true],
            ["index-added", "index metric_timestamp_idx_btree", true],
            ["reducer-added", "reducer noop_probe", true],
        ]);
        expect(plan.accepted).toBe(true);
    });

    it("removing a table's schedule: refused (the server answered 'Removing schedules is not yet implemented')", async () => {
        const plan = planMigration(await describeWasm(wasm("module.wasm.gz")), await describeWasm(wasm("module-remove-schedule.wasm.gz")));
        expect(plan.steps.map((s) => [s.kind, s.target, s.accepted])).toEqual([["schedule-removed", "table metrics_schedule", false]]);
        expect(publishDecision(plan, "on_conflict")).toBe("clear");
    });

    it("first publish of the real module", async () => {
        const def = await describeWasm(wasm("module.wasm.gz"));
        const plan = planMigration(undefined, def);
        expect(plan.newDatabase).toBe(true);
        // One created table per table of the module (13 since the import's staging tables).
        expect(plan.steps.map((s) => `${s.kind} ${s.target}`)).toEqual(def.tables.map((t) => `table-added table ${t.name}`));
        expect(plan.steps.map((s) => s.target)).toEqual(expect.arrayContaining(["table import_session", "table import_batch", "table entity"]));
        expect(publishDecision(plan, "never")).toBe("create");
    });
});
