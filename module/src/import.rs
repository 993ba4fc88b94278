//! Loading a logical export (`npm run ops -- backup export`) into a freshly published database:
//! the way from one server, version or machine to another (SpacetimeDB has no documented way to
//! move a database). Admin only, and only into a database that holds no entities, relations or
//! state versions and was never imported into.
//!
//! **All or nothing.** Each reducer call is its own transaction, and the server takes at most
//! 2 MiB per call (axum's default body limit on `/call`, measured on 1.2.0: 2,097,152 bytes
//! accepted, one more refused with 413), far less than an export. So the rows are *staged*:
//!
//! 1. `import_begin(header)`: refuses a non-admin, a non-empty database, or an import of another
//!    identity in progress; opens the `import_session` (a stale one of the same identity, left by
//!    a run that died, is replaced).
//! 2. `import_rows(table, rows)`: a JSON array of rows of `config`, `entity`, `relation`,
//!    `state_version` or `event_log`, in export order. Each row is converted and checked
//!    (`rows::convert`, refused naming the row) and the batch is kept in `import_batch`;
//!    the real tables are not touched.
//! 3. `import_finish(counts)`: checks the whole import (`plan::plan`: duplicates, relation ends,
//!    counts) and only then writes every row, sets the state-version counter, logs
//!    `IMPORT_COMPLETED` and drops the stage, in one transaction: a refusal rolls all of it back.
//! 4. `import_abort()`: drops the stage; what `backup import` calls on any failure.
//!
//! Rather than writing each batch into the real tables and deleting them again on failure:
//! deletes cannot give back the config rows an import replaced, nor tell imported events from
//! ones other callers logged meanwhile; a run that dies before its abort would leave a half
//! import; and id sequences never roll back (1.2 keeps drawn values even in an aborted
//! transaction), so a retry would find them past the exported ids. Staged rows touch no sequence,
//! and `import_finish` draws ids only after its checks have passed (the one refusal after that,
//! a sequence already past an exported id, means this database can never take that export).
//!
//! Entity and relation ids are kept (relations and state versions name them). Their columns are
//! auto-increment and a 1.2 insert with an explicit id does not move the sequence, so rows are
//! inserted with id 0 and ids the export skipped are drawn and dropped until the sequence reaches
//! the exported id; a sequence already past it (an earlier delete, a restart) is refused.
//! `event_log` rows are appended with new ids (the fresh database's own events stay first).
//! The decisions are pure and unit-tested on the host (`rows`, `plan`, and below).

pub mod plan;
pub mod rows;

use serde_json::Value;
use spacetimedb::{reducer, Identity, ReducerContext, Table};

use crate::reducers::common;
use crate::tables::{
    config, entity, event_log, import_batch, import_session, relation, state_version,
    version_counter, Entity, ImportBatch, ImportSession, Relation, VersionCounter,
};

/// Logged by imports of earlier module versions at their start; still counts as "imported here".
pub const STARTED: &str = "IMPORT_STARTED";
pub const COMPLETED: &str = "IMPORT_COMPLETED";
const SESSION_ID: u32 = 0;

/// Why a database cannot take an import, if it cannot.
pub fn refuse_non_empty(
    entities: u64,
    relations: u64,
    versions: u64,
    imports: u64,
) -> Result<(), String> {
    if imports > 0 {
        return Err("database: an import already ran here (IMPORT_COMPLETED event); import only into a freshly published database".into());
    }
    if entities + relations + versions > 0 {
        return Err(format!(
            "database: not empty ({entities} entities, {relations} relations, {versions} state versions); import only into a freshly published database"
        ));
    }
    Ok(())
}

/// What an id sequence must do to hand out `wanted` next: draw and drop (`Burn`), accept, or refuse.
#[derive(Debug, PartialEq, Eq)]
pub enum IdStep {
    Take,
    Burn,
    Refuse(String),
}

pub fn id_step(table: &str, drawn: u64, wanted: u64) -> IdStep {
    match drawn.cmp(&wanted) {
        std::cmp::Ordering::Equal => IdStep::Take,
        std::cmp::Ordering::Less => IdStep::Burn,
        std::cmp::Ordering::Greater => IdStep::Refuse(format!(
            "rows: {table} id sequence is at {drawn}, past the exported id {wanted}; import only into a freshly published database, rows in id order"
        )),
    }
}

// ── reducers ───────────────────────────────────────────────────────────────────────────

fn imports_done(ctx: &ReducerContext) -> u64 {
    let log = ctx.db.event_log();
    (log.event_type().filter(STARTED).count() + log.event_type().filter(COMPLETED).count()) as u64
}

fn refuse_unless_empty(ctx: &ReducerContext) -> Result<(), String> {
    refuse_non_empty(
        ctx.db.entity().count(),
        ctx.db.relation().count(),
        ctx.db.state_version().count(),
        imports_done(ctx),
    )
}

/// Drops the stage: the session and every staged batch.
fn clear_stage(ctx: &ReducerContext) -> u64 {
    let ids: Vec<u64> = ctx.db.import_batch().iter().map(|b| b.id).collect();
    for id in &ids {
        ctx.db.import_batch().id().delete(*id);
    }
    ctx.db.import_session().id().delete(SESSION_ID);
    ids.len() as u64
}

/// The caller's open import: admin, after `import_begin`, and the identity that began it.
fn require_session(ctx: &ReducerContext) -> Result<ImportSession, String> {
    common::require_admin(ctx, "import")?;
    let s = ctx
        .db
        .import_session()
        .id()
        .find(SESSION_ID)
        .ok_or("import: no import in progress; call import_begin first")?;
    session_owner(s.begun_by, ctx.sender)?;
    Ok(s)
}

/// Only the identity that began an import adds to it (two imports never mix their rows).
pub fn session_owner(begun_by: Identity, caller: Identity) -> Result<(), String> {
    if begun_by == caller {
        Ok(())
    } else {
        Err(format!("import: another import is in progress here (begun by {begun_by}); wait for it, or end it with import_abort"))
    }
}

#[reducer]
pub fn import_begin(ctx: &ReducerContext, header: String) -> Result<(), String> {
    common::require_admin(ctx, "import")?;
    let h: Value = serde_json::from_str(&header).map_err(|e| format!("header: not JSON: {e}"))?;
    if !h.is_object() {
        return Err("header: expected the export's header object".into());
    }
    refuse_unless_empty(ctx)?;
    if let Some(open) = ctx.db.import_session().id().find(SESSION_ID) {
        session_owner(open.begun_by, ctx.sender)?;
        // The same identity again: its earlier run died before finishing or aborting.
        let dropped = clear_stage(ctx);
        log::info!(
            "import: replacing the unfinished import begun at {:?} ({dropped} staged batches)",
            open.begun_at
        );
    }
    ctx.db.import_session().insert(ImportSession {
        id: SESSION_ID,
        header: h.to_string(),
        begun_by: ctx.sender,
        begun_at: ctx.timestamp,
    });
    Ok(())
}

/// Inserts with id 0 until the sequence hands out `wanted`, dropping the ids it skips.
fn insert_with_id<T>(
    table: &str,
    wanted: u64,
    mut insert: impl FnMut() -> Result<(T, u64), String>,
    mut delete: impl FnMut(u64),
) -> Result<T, String> {
    loop {
        let (row, drawn) = insert()?;
        match id_step(table, drawn, wanted) {
            IdStep::Take => return Ok(row),
            IdStep::Burn => delete(drawn),
            IdStep::Refuse(e) => return Err(e),
        }
    }
}

#[reducer]
pub fn import_rows(ctx: &ReducerContext, table: String, rows: String) -> Result<(), String> {
    require_session(ctx)?;
    // Refuse a bad row now, naming it, rather than at import_finish; nothing real is written here.
    for r in rows::parse_rows(&table, &rows)? {
        rows::convert(&table, &r)?;
    }
    ctx.db.import_batch().insert(ImportBatch {
        id: 0,
        table_name: table,
        rows,
    });
    Ok(())
}

#[reducer]
pub fn import_finish(ctx: &ReducerContext, counts: String) -> Result<(), String> {
    let session = require_session(ctx)?;
    let v: Value = serde_json::from_str(&counts).map_err(|e| format!("counts: not JSON: {e}"))?;
    let Value::Object(expected) = v else {
        return Err("counts: expected an object of row counts per table".into());
    };
    // Someone may have written since import_begin.
    refuse_unless_empty(ctx)?;
    let mut staged: Vec<ImportBatch> = ctx.db.import_batch().iter().collect();
    staged.sort_by_key(|b| b.id);
    let batches: Vec<(&str, &str)> = staged
        .iter()
        .map(|b| (b.table_name.as_str(), b.rows.as_str()))
        .collect();
    // Every check before the first write (and before any id is drawn).
    let p = plan::plan(&batches, &expected)?;
    for row in p.config {
        ctx.db.config().key().delete(row.key.clone());
        ctx.db.config().insert(row);
    }
    for row in p.entities {
        let wanted = row.id;
        insert_with_id(
            "entity",
            wanted,
            || {
                let e = ctx
                    .db
                    .entity()
                    .try_insert(Entity {
                        id: 0,
                        ..row.clone_row()
                    })
                    .map_err(|e| format!("entity {wanted}: {e}"))?;
                Ok(((), e.id))
            },
            |id| {
                ctx.db.entity().id().delete(id);
            },
        )?;
    }
    for row in p.relations {
        let wanted = row.id;
        insert_with_id(
            "relation",
            wanted,
            || {
                let e = ctx
                    .db
                    .relation()
                    .try_insert(Relation {
                        id: 0,
                        ..row.clone_row()
                    })
                    .map_err(|e| format!("relation {wanted}: {e}"))?;
                Ok(((), e.id))
            },
            |id| {
                ctx.db.relation().id().delete(id);
            },
        )?;
    }
    for row in p.versions {
        let v = row.version;
        ctx.db
            .state_version()
            .try_insert(row)
            .map_err(|e| format!("state_version {v}: {e}"))?;
    }
    for row in p.events {
        ctx.db.event_log().insert(row);
    }
    // The next change gets the version after the newest imported one (no gap, no reuse).
    let last = ctx
        .db
        .state_version()
        .iter()
        .map(|s| s.version)
        .max()
        .unwrap_or(0);
    ctx.db.version_counter().id().delete(0);
    ctx.db.version_counter().insert(VersionCounter {
        id: 0,
        last_version: last,
    });
    let header: Value = serde_json::from_str(&session.header).unwrap_or(Value::Null);
    common::log_event(
        ctx,
        COMPLETED,
        serde_json::json!({ "header": header, "counts": Value::Object(expected), "last_version": last, "begun_at_micros": session.begun_at.to_micros_since_unix_epoch() }),
    );
    clear_stage(ctx);
    Ok(())
}

/// Ends the import in progress without writing anything: the staged rows go, the tables stay as
/// they were (no event either, so a refused import leaves no row behind). Any admin may call it
/// (the way out of an import whose run died); nothing to abort is not an error.
#[reducer]
pub fn import_abort(ctx: &ReducerContext) -> Result<(), String> {
    common::require_admin(ctx, "import")?;
    let dropped = clear_stage(ctx);
    log::info!(
        "import: aborted by {}, {dropped} staged batches dropped",
        ctx.sender
    );
    Ok(())
}

/// Row copies for the insert loops (the table structs derive no Clone).
trait CloneRow {
    fn clone_row(&self) -> Self;
}

impl CloneRow for Entity {
    fn clone_row(&self) -> Self {
        Entity {
            id: self.id,
            entity_type: self.entity_type.clone(),
            name: self.name.clone(),
            data: self.data.clone(),
            version: self.version,
            owner: self.owner,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

impl CloneRow for Relation {
    fn clone_row(&self) -> Self {
        Relation {
            id: self.id,
            source_id: self.source_id,
            target_id: self.target_id,
            relation_type: self.relation_type.clone(),
            data: self.data.clone(),
            version: self.version,
            owner: self.owner,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_identity_that_began_an_import_adds_to_it() {
        let (a, b) = (
            Identity::from_byte_array([1; 32]),
            Identity::from_byte_array([2; 32]),
        );
        assert!(session_owner(a, a).is_ok());
        let refused = session_owner(a, b).unwrap_err();
        assert!(refused.contains(&format!(
            "another import is in progress here (begun by {a})"
        )));
    }

    #[test]
    fn refuses_non_empty_or_imported_databases() {
        assert!(refuse_non_empty(0, 0, 0, 0).is_ok());
        assert!(refuse_non_empty(1, 0, 0, 0)
            .unwrap_err()
            .contains("not empty (1 entities"));
        assert!(refuse_non_empty(0, 0, 3, 0)
            .unwrap_err()
            .contains("3 state versions"));
        assert!(refuse_non_empty(0, 0, 0, 1)
            .unwrap_err()
            .contains("already ran"));
    }

    #[test]
    fn id_steps() {
        assert_eq!(id_step("entity", 3, 3), IdStep::Take);
        assert_eq!(id_step("entity", 2, 3), IdStep::Burn);
        assert!(
            matches!(id_step("entity", 4, 3), IdStep::Refuse(m) if m.contains("past the exported id 3"))
        );
    }

    #[test]
    fn insert_loop_burns_gaps_and_refuses_a_sequence_past_the_id() {
        let mut next = 1;
        let mut dropped = vec![];
        let got = insert_with_id(
            "entity",
            4,
            || {
                next += 1;
                Ok(((), next - 1))
            },
            |id| dropped.push(id),
        );
        assert!(got.is_ok());
        assert_eq!(dropped, vec![1, 2, 3]);
        let mut next = 9;
        assert!(insert_with_id(
            "entity",
            4,
            || {
                next += 1;
                Ok(((), next - 1))
            },
            |_| {}
        )
        .is_err());
    }
}
