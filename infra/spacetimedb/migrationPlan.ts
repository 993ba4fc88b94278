// What a publish would change, and whether SpacetimeDB 1.2's automatic migration accepts it.
//
// The rules mirror crates/schema/src/auto_migrate.rs at v1.2.0 (`ponder_auto_migrate`),
// plus the two places where crates/core/src/db/update.rs at v1.2.0 refuses what the
// planner lets through:
//
// - tables are matched by name. Added → `AddTable` (its indexes, constraints and sequences
//   come with it). Removed → `RemoveTable` error. Table type changed → `ChangeTableType`
//   error. Access changed → `ChangeAccess` step (accepted).
// - columns are matched by name within a table. Added → `AddColumn` error; removed →
//   `RemoveColumn` error; type changed (refs resolved) → `ChangeColumnType` error; same
//   name at another position → `ReorderTable` error.
// - indexes are matched by name. Added to an existing table → `AddIndex`; removed →
//   `RemoveIndex`; algorithm/columns changed → remove + add (accepted); accessor name
//   changed → `ChangeIndexAccessor` error.
// - unique constraints are matched by name. Added to an existing table →
//   `AddUniqueConstraint` error; removed → `RemoveConstraint` (accepted); changed →
//   `ChangeUniqueConstraint` error.
// - sequences are matched by name. Added / changed → `AddSequence` with the precheck
//   `CheckAddSequenceRangeValid` (refused at publish time if the column already holds
//   values in [min_value or 1, max_value)); removed → `RemoveSequence`. Accepted.
// - schedules: auto_migrate.rs plans `AddSchedule` / `RemoveSchedule`, but update.rs bails
//   ("Adding/Removing schedules is not yet implemented"), so any schedule change on an
//   existing table is refused.
// - primary key: auto_migrate.rs has no rule for it, and no step changes it, so the stored
//   table keeps the old key; update.rs runs `check_compatible` (crates/schema/src/schema.rs)
//   against the previous def before every later publish, which then fails with
//   "Primary key mismatch". Treated as refused.
// - reducers and exported types are not compared by auto_migrate.rs: any reducer change is
//   accepted (existing clients may break, which the step says).
// - row-level-security: all old filters are removed and all new ones added. Accepted.
//
// Erasable TypeScript, Node built-ins only (may be loaded by a dynamic provider).

import { type AlgebraicType, type ModuleDef, type ReducerDef, resolveRefs, type TableDef, typesEqual } from "./moduleDef.ts";
import type { DeleteDataPolicy } from "./protocol-impl.ts";

export type MigrationStepKind =
    | "table-added"
    | "table-removed"
    | "table-type-changed"
    | "access-changed"
    | "column-added"
    | "column-removed"
    | "column-type-changed"
    | "column-reordered"
    | "primary-key-changed"
    | "index-added"
    | "index-removed"
    | "index-changed"
    | "index-accessor-changed"
    | "constraint-added"
    | "constraint-removed"
    | "constraint-changed"
    | "sequence-added"
    | "sequence-removed"
    | "sequence-changed"
    | "schedule-added"
    | "schedule-removed"
    | "schedule-changed"
    | "reducer-added"
    | "reducer-removed"
    | "reducer-changed"
    | "rls-added"
    | "rls-removed";

export interface MigrationStep {
    kind: MigrationStepKind;
    /** What the step is about, e.g. `table e2e_probe`, `column config.extra`, `reducer set_config`. */
    target: string;
    /** What happens to it, e.g. `added`, `type u32 → u64`. */
    detail: string;
    accepted: boolean;
    /** Why it is refused (the 1.2 rule), or a caveat for an accepted step. */
    reason?: string;
}

export interface MigrationPlan {
    /** No current schema: the publish creates the database. */
    newDatabase: boolean;
    steps: MigrationStep[];
    /** Whether SpacetimeDB 1.2's automatic migration accepts every step. */
    accepted: boolean;
}

/** What a publish will do, given the plan and `spacetimedb.publish.delete_data`. */
export type PublishDecision =
    /** Database does not exist: created from the new module (init runs). */
    | "create"
    /** Automatic migration in place; data kept. */
    | "update"
    /** Publish with `clear=true`: the database is deleted and re-created; every row is lost. */
    | "clear"
    /** The server would reject the publish: the deploy must fail before publishing. */
    | "refuse";

const acc = (kind: MigrationStepKind, target: string, detail: string, reason?: string): MigrationStep =>
    reason === undefined ? { kind, target, detail, accepted: true } : { kind, target, detail, accepted: true, reason };
const ref = (kind: MigrationStepKind, target: string, detail: string, reason: string): MigrationStep => ({ kind, target, detail, accepted: false, reason });

/** What one comparison finds: a step, several, or none. */
type Found = MigrationStep | MigrationStep[] | undefined;
const steps = (found: Found[]): MigrationStep[] => found.flat().filter((s): s is MigrationStep => s !== undefined);

/** Types of the old and of the new module with refs resolved (types are compared resolved). */
interface Resolved {
    old: (t: AlgebraicType) => AlgebraicType;
    next: (t: AlgebraicType) => AlgebraicType;
}

interface ByName<T> {
    removed: (old: T) => Found;
    added: (t: T) => Found;
    kept: (old: T, t: T) => Found;
}

/**
 * The diff of every part of a module (tables, columns, indexes, constraints, sequences, reducers,
 * RLS filters), matched by name as auto_migrate.rs matches them: first what `next` no longer has,
 * in its old order; then each of `next`, in order, new or compared with the old one of its name.
 */
function diffByName<T extends { name: string }>(current: T[], next: T[], on: ByName<T>): MigrationStep[] {
    const olds = new Map(current.map((x) => [x.name, x]));
    const kept = new Set(next.map((x) => x.name));
    return steps([
        ...current.filter((o) => !kept.has(o.name)).map((o) => on.removed(o)),
        ...next.map((t) => {
            const old = olds.get(t.name);
            return old === undefined ? on.added(t) : on.kept(old, t);
        }),
    ]);
}

const list = (xs: string[]): string => `(${xs.join(", ")})`;

/** Diffs `current` (the schema the server runs; `undefined` for a new database) against `next`. */
export function planMigration(current: ModuleDef | undefined, next: ModuleDef): MigrationPlan {
    if (current === undefined) {
        const created = next.tables.map((t) => acc("table-added", `table ${t.name}`, "created", undefined));
        return { newDatabase: true, steps: created, accepted: true };
    }
    const resolved: Resolved = { old: (t) => resolveRefs(t, current.typespace), next: (t) => resolveRefs(t, next.typespace) };
    const rls = (m: ModuleDef) => m.rowLevelSecurity.map((sql) => ({ name: sql, target: `row-level security ${JSON.stringify(sql)}` }));
    const found = [
        ...diffByName(current.tables, next.tables, {
            removed: (old) => ref("table-removed", `table ${old.name}`, "removed", "removing a table requires a manual migration (auto_migrate.rs RemoveTable)"),
            added: (t) => acc("table-added", `table ${t.name}`, "added"),
            kept: (old, t) => diffTable(old, t, resolved),
        }),
        ...diffReducers(current.reducers, next.reducers, resolved),
        ...diffByName(rls(current), rls(next), {
            removed: (old) => acc("rls-removed", old.target, "removed"),
            added: (sql) => acc("rls-added", sql.target, "added"),
            kept: () => undefined,
        }),
    ];
    return { newDatabase: false, steps: found, accepted: found.every((s) => s.accepted) };
}

function diffTable(old: TableDef, t: TableDef, resolved: Resolved): MigrationStep[] {
    const tn = t.name;
    return steps([
        old.tableType !== t.tableType
            ? ref(
                  "table-type-changed",
                  `table ${tn}`,
                  `table type ${old.tableType} → ${t.tableType}`,
                  "changing the table type requires a manual migration (auto_migrate.rs ChangeTableType)",
              )
            : undefined,
        old.access !== t.access ? acc("access-changed", `table ${tn}`, `access ${old.access} → ${t.access}`) : undefined,
        diffColumns(old, t, resolved),
        old.primaryKey !== t.primaryKey
            ? ref(
                  "primary-key-changed",
                  `table ${tn}`,
                  `primary key ${old.primaryKey ?? "(none)"} → ${t.primaryKey ?? "(none)"}`,
                  '1.2 has no migration step for a primary key: the stored table keeps the old key and every later publish fails check_compatible ("Primary key mismatch")',
              )
            : undefined,
        diffIndexes(old, t),
        diffConstraints(old, t),
        diffSequences(old, t),
        diffSchedule(old, t),
    ]);
}

/** Columns, matched by name (ColumnDef's ModuleDefLookup key is (table, column name)); moves are one step. */
function diffColumns(old: TableDef, t: TableDef, resolved: Resolved): MigrationStep[] {
    const tn = t.name;
    const moved: string[] = [];
    const found = diffByName(old.columns, t.columns, {
        removed: (c) =>
            ref(
                "column-removed",
                `column ${tn}.${c.name}`,
                `removed (${c.typeName})`,
                "removing a column requires a manual migration; 1.2 cannot migrate it automatically (auto_migrate.rs RemoveColumn)",
            ),
        added: (c) =>
            ref(
                "column-added",
                `column ${tn}.${c.name}`,
                `added (${c.typeName}) at position ${c.colId}`,
                "adding a column requires a manual migration; 1.2 cannot migrate it automatically (auto_migrate.rs AddColumn)",
            ),
        kept: (o, c) => {
            if (o.colId !== c.colId) moved.push(`${c.name} ${o.colId} → ${c.colId}`);
            if (typesEqual(resolved.old(o.type), resolved.next(c.type))) return undefined;
            return ref(
                "column-type-changed",
                `column ${tn}.${c.name}`,
                `type ${o.typeName} → ${c.typeName}`,
                "changing a column's type requires a manual migration (auto_migrate.rs ChangeColumnType)",
            );
        },
    });
    if (moved.length === 0) return found;
    return [
        ...found,
        ref("column-reordered", `table ${tn}`, `columns moved: ${moved.join(", ")}`, "changing column positions requires a manual migration (auto_migrate.rs ReorderTable)"),
    ];
}

function diffIndexes(old: TableDef, t: TableDef): MigrationStep[] {
    const tn = t.name;
    return diffByName(old.indexes, t.indexes, {
        removed: (ix) => acc("index-removed", `index ${ix.name}`, `removed from ${tn} ${list(ix.columns)}`),
        added: (ix) => acc("index-added", `index ${ix.name}`, `added to ${tn}: ${ix.algorithm} ${list(ix.columns)}`),
        kept: (o, ix) => {
            if (o.accessorName !== ix.accessorName) {
                return ref(
                    "index-accessor-changed",
                    `index ${ix.name}`,
                    `accessor ${o.accessorName ?? "(none)"} → ${ix.accessorName ?? "(none)"}`,
                    "changing an index's accessor name requires a manual migration (auto_migrate.rs ChangeIndexAccessor)",
                );
            }
            if (o.algorithm === ix.algorithm && o.colIds.join(",") === ix.colIds.join(",")) return undefined;
            return acc("index-changed", `index ${ix.name}`, `${o.algorithm} ${list(o.columns)} → ${ix.algorithm} ${list(ix.columns)} (dropped and rebuilt)`);
        },
    });
}

/** Unique constraints. */
function diffConstraints(old: TableDef, t: TableDef): MigrationStep[] {
    const tn = t.name;
    return diffByName(old.constraints, t.constraints, {
        removed: (c) => acc("constraint-removed", `constraint ${c.name}`, `unique ${list(c.columns)} removed from ${tn}`),
        added: (c) =>
            ref(
                "constraint-added",
                `constraint ${c.name}`,
                `unique ${list(c.columns)} added to ${tn}`,
                "adding a unique constraint to an existing table requires a manual migration (auto_migrate.rs AddUniqueConstraint)",
            ),
        kept: (o, c) =>
            o.colIds.join(",") === c.colIds.join(",")
                ? undefined
                : ref(
                      "constraint-changed",
                      `constraint ${c.name}`,
                      `unique ${list(o.columns)} → ${list(c.columns)}`,
                      "changing a unique constraint requires a manual migration (auto_migrate.rs ChangeUniqueConstraint)",
                  ),
    });
}

function diffSequences(old: TableDef, t: TableDef): MigrationStep[] {
    const tn = t.name;
    const precheck = (s: { minValue?: string; maxValue?: string }): string =>
        `the server checks before migrating that ${tn} holds no value in [${s.minValue ?? "1"}, ${s.maxValue ?? "i128::MAX"}) in this column (CheckAddSequenceRangeValid), else the publish fails`;
    return diffByName(old.sequences, t.sequences, {
        removed: (s) => acc("sequence-removed", `sequence ${s.name}`, `removed from ${tn}.${s.column}`),
        added: (s) => acc("sequence-added", `sequence ${s.name}`, `added to ${tn}.${s.column}`, precheck(s)),
        kept: (o, s) =>
            o.colId === s.colId && o.start === s.start && o.minValue === s.minValue && o.maxValue === s.maxValue && o.increment === s.increment
                ? undefined
                : acc("sequence-changed", `sequence ${s.name}`, `${describeSeq(o)} → ${describeSeq(s)} (dropped and re-added)`, precheck(s)),
    });
}

/** Schedule (ScheduleDef equality: name, reducer, at column, id column = primary key). */
function diffSchedule(old: TableDef, t: TableDef): MigrationStep | undefined {
    const tn = t.name;
    const so = old.schedule;
    const sn = t.schedule;
    const scheduleRefused = 'update.rs does not implement schedule changes on an existing table in 1.2 ("Adding/Removing schedules is not yet implemented")';
    if (so === undefined && sn !== undefined)
        return ref("schedule-added", `table ${tn}`, `schedule ${sn.name} added (reducer ${sn.reducer}, column ${sn.column})`, scheduleRefused);
    if (so !== undefined && sn === undefined) return ref("schedule-removed", `table ${tn}`, `schedule ${so.name} removed`, scheduleRefused);
    if (so === undefined || sn === undefined) return undefined;
    if (so.name === sn.name && so.reducer === sn.reducer && so.colId === sn.colId && old.primaryKey === t.primaryKey) return undefined;
    return ref("schedule-changed", `table ${tn}`, `schedule ${so.name} → ${sn.name} (reducer ${so.reducer} → ${sn.reducer}, column ${so.column} → ${sn.column})`, scheduleRefused);
}

function describeSeq(s: { start?: string; minValue?: string; maxValue?: string; increment: string; column: string }): string {
    const parts = [`column ${s.column}`, `increment ${s.increment}`];
    if (s.start !== undefined) parts.push(`start ${s.start}`);
    if (s.minValue !== undefined) parts.push(`min ${s.minValue}`);
    if (s.maxValue !== undefined) parts.push(`max ${s.maxValue}`);
    return parts.join(", ");
}

function diffReducers(current: ReducerDef[], next: ReducerDef[], resolved: Resolved): MigrationStep[] {
    const sig = (r: { params: { name: string; typeName: string }[] }): string => `(${r.params.map((p) => `${p.name}: ${p.typeName}`).join(", ")})`;
    return diffByName(current, next, {
        removed: (r) => acc("reducer-removed", `reducer ${r.name}`, "removed", "not checked by automatic migration; clients that still call it get an error"),
        added: (r) => acc("reducer-added", `reducer ${r.name}`, `added ${sig(r)}${r.lifecycle === undefined ? "" : ` [${r.lifecycle}]`}`),
        kept: (o, r) => {
            const changes: string[] = [];
            const sameParams =
                o.params.length === r.params.length && o.params.every((p, i) => p.name === r.params[i]!.name && typesEqual(resolved.old(p.type), resolved.next(r.params[i]!.type)));
            if (!sameParams) changes.push(`params ${sig(o)} → ${sig(r)}`);
            if (o.lifecycle !== r.lifecycle) changes.push(`lifecycle ${o.lifecycle ?? "(none)"} → ${r.lifecycle ?? "(none)"}`);
            if (changes.length === 0) return undefined;
            const caveat = sameParams ? undefined : "not checked by automatic migration; clients built against the old signature fail to call it";
            return acc("reducer-changed", `reducer ${r.name}`, changes.join("; "), caveat);
        },
    });
}

/** What the publish does under `deleteData` (`spacetimedb.publish.delete_data`). */
export function publishDecision(plan: MigrationPlan, deleteData: DeleteDataPolicy): PublishDecision {
    if (plan.newDatabase) return "create";
    if (deleteData === "always") return "clear";
    if (plan.accepted) return "update";
    return deleteData === "on_conflict" ? "clear" : "refuse";
}

/** Human-readable plan: one line per step, then what the publish will do. */
export function formatPlan(plan: MigrationPlan, deleteData: DeleteDataPolicy): string[] {
    const lines: string[] = [];
    if (plan.newDatabase) {
        lines.push(`new database: it will be created with ${plan.steps.length} table${plan.steps.length === 1 ? "" : "s"} and the init reducer runs`);
    } else if (plan.steps.length === 0) {
        lines.push("no schema changes");
    }
    for (const s of plan.steps) {
        const verdict = s.accepted ? (s.reason === undefined ? "accepted" : `accepted (${s.reason})`) : `refused: ${s.reason ?? "requires a manual migration"}`;
        lines.push(`${s.target} ${s.detail} — ${verdict}`);
    }
    const refused = plan.steps.filter((s) => !s.accepted).length;
    if (!plan.newDatabase) {
        lines.push(
            plan.accepted
                ? "SpacetimeDB 1.2 automatic migration: accepted"
                : `SpacetimeDB 1.2 automatic migration: refused (${refused} of ${plan.steps.length} step${plan.steps.length === 1 ? "" : "s"} need${refused === 1 ? "s" : ""} a manual migration)`,
        );
    }
    switch (publishDecision(plan, deleteData)) {
        case "create":
            lines.push(`delete_data = ${deleteData}: nothing to clear, the database does not exist yet`);
            break;
        case "update":
            lines.push(`delete_data = ${deleteData}: the database is migrated in place; all rows are kept`);
            break;
        case "clear":
            lines.push(
                deleteData === "always"
                    ? "delete_data = always: the database will be cleared on every publish: every row in every table is deleted"
                    : "delete_data = on_conflict: the database will be cleared: every row in every table is deleted",
            );
            break;
        case "refuse":
            lines.push("delete_data = never: the publish would be refused by the server; the deploy must fail before publishing");
            break;
    }
    return lines;
}
