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

import { type AlgebraicType, type ModuleDef, resolveRefs, type TableDef, typesEqual } from "./moduleDef.ts";

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

export type DeleteDataPolicy = "never" | "on_conflict" | "always";

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

function byName<T extends { name: string }>(xs: T[]): Map<string, T> {
    return new Map(xs.map((x) => [x.name, x]));
}

const list = (xs: string[]): string => `(${xs.join(", ")})`;

/** Diffs `current` (the schema the server runs; `undefined` for a new database) against `next`. */
export function planMigration(current: ModuleDef | undefined, next: ModuleDef): MigrationPlan {
    if (current === undefined) {
        const steps = next.tables.map((t) => acc("table-added", `table ${t.name}`, "created", undefined));
        return { newDatabase: true, steps, accepted: true };
    }
    const steps: MigrationStep[] = [];
    const oldTables = byName(current.tables);
    const newTables = byName(next.tables);
    const resolvedOld = (t: AlgebraicType): AlgebraicType => resolveRefs(t, current.typespace);
    const resolvedNew = (t: AlgebraicType): AlgebraicType => resolveRefs(t, next.typespace);

    for (const old of current.tables) {
        if (!newTables.has(old.name)) {
            steps.push(ref("table-removed", `table ${old.name}`, "removed", "removing a table requires a manual migration (auto_migrate.rs RemoveTable)"));
        }
    }
    for (const t of next.tables) {
        const old = oldTables.get(t.name);
        if (old === undefined) steps.push(acc("table-added", `table ${t.name}`, "added"));
        else steps.push(...diffTable(old, t, resolvedOld, resolvedNew));
    }

    steps.push(...diffReducers(current, next, resolvedOld, resolvedNew));

    const oldRls = new Set(current.rowLevelSecurity);
    const newRls = new Set(next.rowLevelSecurity);
    for (const sql of current.rowLevelSecurity) if (!newRls.has(sql)) steps.push(acc("rls-removed", `row-level security ${JSON.stringify(sql)}`, "removed"));
    for (const sql of next.rowLevelSecurity) if (!oldRls.has(sql)) steps.push(acc("rls-added", `row-level security ${JSON.stringify(sql)}`, "added"));

    return { newDatabase: false, steps, accepted: steps.every((s) => s.accepted) };
}

function diffTable(old: TableDef, t: TableDef, resolvedOld: (x: AlgebraicType) => AlgebraicType, resolvedNew: (x: AlgebraicType) => AlgebraicType): MigrationStep[] {
    const steps: MigrationStep[] = [];
    const tn = t.name;

    if (old.tableType !== t.tableType) {
        steps.push(
            ref(
                "table-type-changed",
                `table ${tn}`,
                `table type ${old.tableType} → ${t.tableType}`,
                "changing the table type requires a manual migration (auto_migrate.rs ChangeTableType)",
            ),
        );
    }
    if (old.access !== t.access) steps.push(acc("access-changed", `table ${tn}`, `access ${old.access} → ${t.access}`));

    // Columns, matched by name (ColumnDef's ModuleDefLookup key is (table, column name)).
    const oldCols = byName(old.columns);
    const newCols = byName(t.columns);
    const moved: string[] = [];
    for (const c of old.columns) {
        if (!newCols.has(c.name)) {
            steps.push(
                ref(
                    "column-removed",
                    `column ${tn}.${c.name}`,
                    `removed (${c.typeName})`,
                    "removing a column requires a manual migration; 1.2 cannot migrate it automatically (auto_migrate.rs RemoveColumn)",
                ),
            );
        }
    }
    for (const c of t.columns) {
        const o = oldCols.get(c.name);
        if (o === undefined) {
            steps.push(
                ref(
                    "column-added",
                    `column ${tn}.${c.name}`,
                    `added (${c.typeName}) at position ${c.colId}`,
                    "adding a column requires a manual migration; 1.2 cannot migrate it automatically (auto_migrate.rs AddColumn)",
                ),
            );
            continue;
        }
        if (!typesEqual(resolvedOld(o.type), resolvedNew(c.type))) {
            steps.push(
                ref(
                    "column-type-changed",
                    `column ${tn}.${c.name}`,
                    `type ${o.typeName} → ${c.typeName}`,
                    "changing a column's type requires a manual migration (auto_migrate.rs ChangeColumnType)",
                ),
            );
        }
        if (o.colId !== c.colId) moved.push(`${c.name} ${o.colId} → ${c.colId}`);
    }
    if (moved.length > 0) {
        steps.push(
            ref("column-reordered", `table ${tn}`, `columns moved: ${moved.join(", ")}`, "changing column positions requires a manual migration (auto_migrate.rs ReorderTable)"),
        );
    }

    if (old.primaryKey !== t.primaryKey) {
        steps.push(
            ref(
                "primary-key-changed",
                `table ${tn}`,
                `primary key ${old.primaryKey ?? "(none)"} → ${t.primaryKey ?? "(none)"}`,
                '1.2 has no migration step for a primary key: the stored table keeps the old key and every later publish fails check_compatible ("Primary key mismatch")',
            ),
        );
    }

    // Indexes, matched by name.
    const oldIx = byName(old.indexes);
    const newIx = byName(t.indexes);
    for (const ix of old.indexes) {
        if (!newIx.has(ix.name)) steps.push(acc("index-removed", `index ${ix.name}`, `removed from ${tn} ${list(ix.columns)}`));
    }
    for (const ix of t.indexes) {
        const o = oldIx.get(ix.name);
        if (o === undefined) {
            steps.push(acc("index-added", `index ${ix.name}`, `added to ${tn}: ${ix.algorithm} ${list(ix.columns)}`));
            continue;
        }
        if (o.accessorName !== ix.accessorName) {
            steps.push(
                ref(
                    "index-accessor-changed",
                    `index ${ix.name}`,
                    `accessor ${o.accessorName ?? "(none)"} → ${ix.accessorName ?? "(none)"}`,
                    "changing an index's accessor name requires a manual migration (auto_migrate.rs ChangeIndexAccessor)",
                ),
            );
        } else if (o.algorithm !== ix.algorithm || o.colIds.join(",") !== ix.colIds.join(",")) {
            steps.push(acc("index-changed", `index ${ix.name}`, `${o.algorithm} ${list(o.columns)} → ${ix.algorithm} ${list(ix.columns)} (dropped and rebuilt)`));
        }
    }

    // Unique constraints, matched by name.
    const oldCs = byName(old.constraints);
    const newCs = byName(t.constraints);
    for (const c of old.constraints) {
        if (!newCs.has(c.name)) steps.push(acc("constraint-removed", `constraint ${c.name}`, `unique ${list(c.columns)} removed from ${tn}`));
    }
    for (const c of t.constraints) {
        const o = oldCs.get(c.name);
        if (o === undefined) {
            steps.push(
                ref(
                    "constraint-added",
                    `constraint ${c.name}`,
                    `unique ${list(c.columns)} added to ${tn}`,
                    "adding a unique constraint to an existing table requires a manual migration (auto_migrate.rs AddUniqueConstraint)",
                ),
            );
        } else if (o.colIds.join(",") !== c.colIds.join(",")) {
            steps.push(
                ref(
                    "constraint-changed",
                    `constraint ${c.name}`,
                    `unique ${list(o.columns)} → ${list(c.columns)}`,
                    "changing a unique constraint requires a manual migration (auto_migrate.rs ChangeUniqueConstraint)",
                ),
            );
        }
    }

    // Sequences, matched by name.
    const oldSeq = byName(old.sequences);
    const newSeq = byName(t.sequences);
    const precheck = (s: { minValue?: string; maxValue?: string }): string =>
        `the server checks before migrating that ${tn} holds no value in [${s.minValue ?? "1"}, ${s.maxValue ?? "i128::MAX"}) in this column (CheckAddSequenceRangeValid), else the publish fails`;
    for (const s of old.sequences) {
        if (!newSeq.has(s.name)) steps.push(acc("sequence-removed", `sequence ${s.name}`, `removed from ${tn}.${s.column}`));
    }
    for (const s of t.sequences) {
        const o = oldSeq.get(s.name);
        if (o === undefined) {
            steps.push(acc("sequence-added", `sequence ${s.name}`, `added to ${tn}.${s.column}`, precheck(s)));
        } else if (o.colId !== s.colId || o.start !== s.start || o.minValue !== s.minValue || o.maxValue !== s.maxValue || o.increment !== s.increment) {
            steps.push(acc("sequence-changed", `sequence ${s.name}`, `${describeSeq(o)} → ${describeSeq(s)} (dropped and re-added)`, precheck(s)));
        }
    }

    // Schedule (ScheduleDef equality: name, reducer, at column, id column = primary key).
    const so = old.schedule;
    const sn = t.schedule;
    const scheduleRefused = 'update.rs does not implement schedule changes on an existing table in 1.2 ("Adding/Removing schedules is not yet implemented")';
    if (so === undefined && sn !== undefined) {
        steps.push(ref("schedule-added", `table ${tn}`, `schedule ${sn.name} added (reducer ${sn.reducer}, column ${sn.column})`, scheduleRefused));
    } else if (so !== undefined && sn === undefined) {
        steps.push(ref("schedule-removed", `table ${tn}`, `schedule ${so.name} removed`, scheduleRefused));
    } else if (so !== undefined && sn !== undefined) {
        if (so.name !== sn.name || so.reducer !== sn.reducer || so.colId !== sn.colId || old.primaryKey !== t.primaryKey) {
            steps.push(
                ref(
                    "schedule-changed",
                    `table ${tn}`,
                    `schedule ${so.name} → ${sn.name} (reducer ${so.reducer} → ${sn.reducer}, column ${so.column} → ${sn.column})`,
                    scheduleRefused,
                ),
            );
        }
    }
    return steps;
}

function describeSeq(s: { start?: string; minValue?: string; maxValue?: string; increment: string; column: string }): string {
    const parts = [`column ${s.column}`, `increment ${s.increment}`];
    if (s.start !== undefined) parts.push(`start ${s.start}`);
    if (s.minValue !== undefined) parts.push(`min ${s.minValue}`);
    if (s.maxValue !== undefined) parts.push(`max ${s.maxValue}`);
    return parts.join(", ");
}

function diffReducers(current: ModuleDef, next: ModuleDef, resolvedOld: (x: AlgebraicType) => AlgebraicType, resolvedNew: (x: AlgebraicType) => AlgebraicType): MigrationStep[] {
    const steps: MigrationStep[] = [];
    const oldR = byName(current.reducers);
    const newR = byName(next.reducers);
    const sig = (r: { params: { name: string; typeName: string }[] }): string => `(${r.params.map((p) => `${p.name}: ${p.typeName}`).join(", ")})`;
    for (const r of current.reducers) {
        if (!newR.has(r.name)) steps.push(acc("reducer-removed", `reducer ${r.name}`, "removed", "not checked by automatic migration; clients that still call it get an error"));
    }
    for (const r of next.reducers) {
        const o = oldR.get(r.name);
        if (o === undefined) {
            steps.push(acc("reducer-added", `reducer ${r.name}`, `added ${sig(r)}${r.lifecycle === undefined ? "" : ` [${r.lifecycle}]`}`));
            continue;
        }
        const changes: string[] = [];
        const sameParams =
            o.params.length === r.params.length && o.params.every((p, i) => p.name === r.params[i]!.name && typesEqual(resolvedOld(p.type), resolvedNew(r.params[i]!.type)));
        if (!sameParams) changes.push(`params ${sig(o)} → ${sig(r)}`);
        if (o.lifecycle !== r.lifecycle) changes.push(`lifecycle ${o.lifecycle ?? "(none)"} → ${r.lifecycle ?? "(none)"}`);
        if (changes.length > 0) {
            steps.push(
                acc(
                    "reducer-changed",
                    `reducer ${r.name}`,
                    changes.join("; "),
                    sameParams ? undefined : "not checked by automatic migration; clients built against the old signature fail to call it",
                ),
            );
        }
    }
    return steps;
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
