//! Loading a logical export (`npm run backup -- export`) into a freshly published database: the
//! way from one server, version or machine to another (SpacetimeDB has no documented way to move
//! a database). Admin only, and only into a database that holds no entities, relations or state
//! versions and was never imported into:
//!
//! 1. `import_begin(header)`: refuses a non-admin or a non-empty database; logs `IMPORT_STARTED`.
//! 2. `import_rows(table, rows)`: a JSON array of rows of `config`, `entity`, `relation`,
//!    `state_version` or `event_log`, in export order.
//! 3. `import_finish(counts)`: checks the row counts against the export's, sets the
//!    state-version counter, logs `IMPORT_COMPLETED`.
//!
//! Entity and relation ids are kept (relations and state versions name them). Their columns are
//! auto-increment and a 1.2 insert with an explicit id does not move the sequence, so rows are
//! inserted with id 0 and ids the export skipped are drawn and dropped until the sequence reaches
//! the exported id; a sequence already past it (an earlier delete, a restart) is refused.
//! `event_log` rows are appended with new ids (the fresh database's own events stay first).
//! The row conversions below are pure and unit-tested on the host.

use serde_json::{Map, Value};
use spacetimedb::{reducer, Identity, ReducerContext, Table, Timestamp};

use crate::reducers::common;
use crate::tables::{
    config, entity, event_log, relation, state_version, version_counter, Config, Entity, EventLog,
    Relation, StateVersion, VersionCounter,
};

pub const STARTED: &str = "IMPORT_STARTED";
pub const COMPLETED: &str = "IMPORT_COMPLETED";
pub const TABLES: [&str; 5] = ["config", "entity", "relation", "state_version", "event_log"];

// ── pure conversions (export JSON → rows) ───────────────────────────────────────────────

fn field<'a>(row: &'a Map<String, Value>, table: &str, key: &str) -> Result<&'a Value, String> {
    row.get(key).ok_or_else(|| {
        format!(
            "rows: {table} row without `{key}`: {}",
            Value::Object(row.clone())
        )
    })
}

fn text(row: &Map<String, Value>, table: &str, key: &str) -> Result<String, String> {
    field(row, table, key)?
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("rows: {table}.{key} must be a string"))
}

fn uint(row: &Map<String, Value>, table: &str, key: &str) -> Result<u64, String> {
    field(row, table, key)?
        .as_u64()
        .ok_or_else(|| format!("rows: {table}.{key} must be a non-negative integer"))
}

fn identity(row: &Map<String, Value>, table: &str, key: &str) -> Result<Identity, String> {
    let hex = text(row, table, key)?;
    Identity::from_hex(hex.trim_start_matches("0x"))
        .map_err(|e| format!("rows: {table}.{key} is not a hex identity: {e}"))
}

fn timestamp(row: &Map<String, Value>, table: &str, key: &str) -> Result<Timestamp, String> {
    field(row, table, key)?
        .as_i64()
        .map(Timestamp::from_micros_since_unix_epoch)
        .ok_or_else(|| format!("rows: {table}.{key} must be microseconds since the Unix epoch"))
}

/// The rows of one `import_rows` call: a JSON array of objects.
pub fn parse_rows(table: &str, rows: &str) -> Result<Vec<Map<String, Value>>, String> {
    if !TABLES.contains(&table) {
        return Err(format!(
            "table: {table} cannot be imported (one of {})",
            TABLES.join(", ")
        ));
    }
    let v: Value = serde_json::from_str(rows).map_err(|e| format!("rows: not JSON: {e}"))?;
    let Value::Array(items) = v else {
        return Err("rows: expected a JSON array of row objects".into());
    };
    items
        .into_iter()
        .map(|item| match item {
            Value::Object(m) => Ok(m),
            other => Err(format!("rows: {table} row is not an object: {other}")),
        })
        .collect()
}

pub fn config_row(r: &Map<String, Value>) -> Result<Config, String> {
    let description = match field(r, "config", "description")? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        _ => return Err("rows: config.description must be a string or null".into()),
    };
    Ok(Config {
        key: text(r, "config", "key")?,
        value: text(r, "config", "value")?,
        description,
        updated_at: timestamp(r, "config", "updated_at")?,
        updated_by: identity(r, "config", "updated_by")?,
    })
}

pub fn entity_row(r: &Map<String, Value>) -> Result<Entity, String> {
    Ok(Entity {
        id: uint(r, "entity", "id")?,
        entity_type: text(r, "entity", "entity_type")?,
        name: text(r, "entity", "name")?,
        data: text(r, "entity", "data")?,
        version: uint(r, "entity", "version")?,
        owner: identity(r, "entity", "owner")?,
        created_at: timestamp(r, "entity", "created_at")?,
        updated_at: timestamp(r, "entity", "updated_at")?,
    })
}

pub fn relation_row(r: &Map<String, Value>) -> Result<Relation, String> {
    Ok(Relation {
        id: uint(r, "relation", "id")?,
        source_id: uint(r, "relation", "source_id")?,
        target_id: uint(r, "relation", "target_id")?,
        relation_type: text(r, "relation", "relation_type")?,
        data: text(r, "relation", "data")?,
        version: uint(r, "relation", "version")?,
        owner: identity(r, "relation", "owner")?,
        created_at: timestamp(r, "relation", "created_at")?,
        updated_at: timestamp(r, "relation", "updated_at")?,
    })
}

pub fn state_version_row(r: &Map<String, Value>) -> Result<StateVersion, String> {
    Ok(StateVersion {
        version: uint(r, "state_version", "version")?,
        target_kind: text(r, "state_version", "target_kind")?,
        target_id: uint(r, "state_version", "target_id")?,
        change: text(r, "state_version", "change")?,
        data: text(r, "state_version", "data")?,
        changed_by: identity(r, "state_version", "changed_by")?,
        timestamp: timestamp(r, "state_version", "timestamp")?,
    })
}

pub fn event_row(r: &Map<String, Value>) -> Result<EventLog, String> {
    Ok(EventLog {
        id: 0,
        event_type: text(r, "event_log", "event_type")?,
        source: identity(r, "event_log", "source")?,
        timestamp: timestamp(r, "event_log", "timestamp")?,
        data: text(r, "event_log", "data")?,
    })
}

/// Why a database cannot take an import, if it cannot.
pub fn refuse_non_empty(
    entities: u64,
    relations: u64,
    versions: u64,
    imports: u64,
) -> Result<(), String> {
    if imports > 0 {
        return Err("database: an import already ran here (IMPORT_STARTED event); import only into a freshly published database".into());
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

/// Compares the export header's counts with what the database now holds.
pub fn check_counts(expected: &Map<String, Value>, actual: &[(&str, u64)]) -> Result<(), String> {
    let mut wrong = Vec::new();
    for (table, have) in actual {
        let want = expected.get(*table).and_then(Value::as_u64).unwrap_or(0);
        if want != *have {
            wrong.push(format!("{table}: export has {want}, database has {have}"));
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!("counts: {}", wrong.join("; ")))
    }
}

// ── reducers ───────────────────────────────────────────────────────────────────────────

fn imports_started(ctx: &ReducerContext) -> u64 {
    ctx.db.event_log().event_type().filter(STARTED).count() as u64
}

fn require_open(ctx: &ReducerContext) -> Result<(), String> {
    common::require_admin(ctx, "import")?;
    if imports_started(ctx) == 0 {
        return Err("import: no import in progress; call import_begin first".into());
    }
    if ctx.db.event_log().event_type().filter(COMPLETED).count() > 0 {
        return Err("import: this database's import is already complete".into());
    }
    Ok(())
}

#[reducer]
pub fn import_begin(ctx: &ReducerContext, header: String) -> Result<(), String> {
    common::require_admin(ctx, "import")?;
    let h: Value = serde_json::from_str(&header).map_err(|e| format!("header: not JSON: {e}"))?;
    if !h.is_object() {
        return Err("header: expected the export's header object".into());
    }
    refuse_non_empty(
        ctx.db.entity().count(),
        ctx.db.relation().count(),
        ctx.db.state_version().count(),
        imports_started(ctx),
    )?;
    common::log_event(ctx, STARTED, serde_json::json!({ "header": h }));
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
    require_open(ctx)?;
    for r in parse_rows(&table, &rows)? {
        match table.as_str() {
            "config" => {
                let row = config_row(&r)?;
                ctx.db.config().key().delete(row.key.clone());
                ctx.db.config().insert(row);
            }
            "entity" => {
                let row = entity_row(&r)?;
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
            "relation" => {
                let row = relation_row(&r)?;
                for end in [row.source_id, row.target_id] {
                    if ctx.db.entity().id().find(end).is_none() {
                        return Err(format!("rows: relation {} names entity {end}, which the import has not seen; import entities first", row.id));
                    }
                }
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
            "state_version" => {
                let row = state_version_row(&r)?;
                let v = row.version;
                ctx.db
                    .state_version()
                    .try_insert(row)
                    .map_err(|e| format!("state_version {v}: {e}"))?;
            }
            _ => {
                ctx.db.event_log().insert(event_row(&r)?);
            }
        }
    }
    Ok(())
}

#[reducer]
pub fn import_finish(ctx: &ReducerContext, counts: String) -> Result<(), String> {
    require_open(ctx)?;
    let v: Value = serde_json::from_str(&counts).map_err(|e| format!("counts: not JSON: {e}"))?;
    let Value::Object(expected) = v else {
        return Err("counts: expected an object of row counts per table".into());
    };
    check_counts(
        &expected,
        &[
            ("entity", ctx.db.entity().count()),
            ("relation", ctx.db.relation().count()),
            ("state_version", ctx.db.state_version().count()),
        ],
    )?;
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
    common::log_event(
        ctx,
        COMPLETED,
        serde_json::json!({ "counts": Value::Object(expected), "last_version": last }),
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

    const ID: &str = "c200945aecb6af3bce86e574296ff939e80b6b92dad076f2910ed970345d1a98";

    #[test]
    fn parses_rows_of_known_tables_only() {
        assert!(parse_rows("admin", "[]")
            .unwrap_err()
            .starts_with("table: admin"));
        assert!(parse_rows("entity", "{}")
            .unwrap_err()
            .contains("JSON array"));
        assert!(parse_rows("entity", "[1]")
            .unwrap_err()
            .contains("not an object"));
        assert_eq!(parse_rows("entity", "[{\"id\":1}]").unwrap().len(), 1);
    }

    #[test]
    fn converts_an_entity_row() {
        let r = parse_rows(
            "entity",
            &format!("[{{\"id\":7,\"entity_type\":\"person\",\"name\":\"Ann\",\"data\":\"{{}}\",\"version\":2,\"owner\":\"0x{ID}\",\"created_at\":1796276775035282,\"updated_at\":1796276775035283}}]"),
        )
        .unwrap();
        let e = entity_row(&r[0]).ok().unwrap();
        assert_eq!((e.id, e.version, e.name.as_str()), (7, 2, "Ann"));
        assert_eq!(e.owner.to_hex().to_string(), ID);
        assert_eq!(e.updated_at.to_micros_since_unix_epoch(), 1796276775035283);
    }

    #[test]
    fn names_the_bad_field() {
        let r = parse_rows("relation", "[{\"id\":1,\"source_id\":\"x\"}]").unwrap();
        assert_eq!(
            relation_row(&r[0]).err().unwrap(),
            "rows: relation.source_id must be a non-negative integer"
        );
        let c = parse_rows("config", &format!("[{{\"key\":\"k\",\"value\":\"v\",\"description\":5,\"updated_at\":1,\"updated_by\":\"{ID}\"}}]")).unwrap();
        assert!(config_row(&c[0])
            .err()
            .unwrap()
            .contains("config.description"));
        let c = parse_rows("config", &format!("[{{\"key\":\"k\",\"value\":\"v\",\"description\":null,\"updated_at\":1,\"updated_by\":\"{ID}\"}}]")).unwrap();
        assert_eq!(config_row(&c[0]).ok().unwrap().description, None);
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

    #[test]
    fn counts_must_match() {
        let want: Map<String, Value> =
            serde_json::from_str("{\"entity\":2,\"relation\":1}").unwrap();
        assert!(check_counts(
            &want,
            &[("entity", 2), ("relation", 1), ("state_version", 0)]
        )
        .is_ok());
        assert_eq!(
            check_counts(&want, &[("entity", 1), ("relation", 1)]).unwrap_err(),
            "counts: entity: export has 2, database has 1"
        );
    }
}
