//! One export row (JSON object) → one table row, and the rules every row must pass: the same
//! rules the module's own reducers apply when they write such a row (`validate`), so an import
//! cannot put into the tables what `create_entity`, `create_relation` or `set_config` would
//! refuse. Pure, unit-tested on the host.

use serde_json::{Map, Value};
use spacetimedb::{Identity, Timestamp};

use crate::tables::{Config, Entity, EventLog, Relation, StateVersion};
use crate::validate;
use crate::versioning::{Change, Target};

pub const TABLES: [&str; 5] = ["config", "entity", "relation", "state_version", "event_log"];

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

// ── the module's rules for imported rows ──────────────────────────────────────────────────

fn config_rules(c: &Config) -> Result<(), String> {
    validate::config_key("key", &c.key)
}

fn entity_rules(e: &Entity) -> Result<(), String> {
    validate::row_id("id", e.id)?;
    validate::type_name("entity_type", &e.entity_type)?;
    validate::text("name", &e.name, validate::MAX_NAME_CHARS)?;
    validate::json_object("data", &e.data, validate::MAX_DATA_BYTES).map(drop)
}

fn relation_rules(r: &Relation) -> Result<(), String> {
    validate::row_id("id", r.id)?;
    validate::row_id("source_id", r.source_id)?;
    validate::row_id("target_id", r.target_id)?;
    validate::type_name("relation_type", &r.relation_type)?;
    validate::json_object("data", &r.data, validate::MAX_DATA_BYTES).map(drop)
}

fn state_version_rules(s: &StateVersion) -> Result<(), String> {
    validate::row_id("version", s.version)?;
    let kinds = [Target::Entity.as_str(), Target::Relation.as_str()];
    if !kinds.contains(&s.target_kind.as_str()) {
        return Err(format!(
            "target_kind: must be entity or relation, got {:?}",
            s.target_kind
        ));
    }
    let changes = [
        Change::Create.as_str(),
        Change::Update.as_str(),
        Change::Delete.as_str(),
    ];
    if !changes.contains(&s.change.as_str()) {
        return Err(format!(
            "change: must be create, update or delete, got {:?}",
            s.change
        ));
    }
    Ok(())
}

fn event_rules(e: &EventLog) -> Result<(), String> {
    // Events are the module's own records: any size, but always a JSON object (`log_event`).
    validate::json_object("data", &e.data, usize::MAX).map(drop)
}

/// A converted row of one of the export's tables.
pub enum Row {
    Config(Config),
    Entity(Entity),
    Relation(Relation),
    StateVersion(StateVersion),
    Event(EventLog),
}

/// How an error names a row: its table and key, as the export file shows them (`entity 7`,
/// `config feature_flags`), so the operator (and `backup import`) can find its line.
pub fn row_name(table: &str, r: &Map<String, Value>) -> String {
    let key = match table {
        "config" => "key",
        "state_version" => "version",
        _ => "id",
    };
    match r.get(key) {
        Some(Value::String(s)) => format!("{table} {s}"),
        Some(Value::Number(n)) => format!("{table} {n}"),
        _ => format!("{table} ?"),
    }
}

/// Converts one row of `table` and applies the module's rules; errors start `row <table> <key>: `.
pub fn convert(table: &str, r: &Map<String, Value>) -> Result<Row, String> {
    let checked = match table {
        "config" => config_row(r).and_then(|c| config_rules(&c).map(|_| Row::Config(c))),
        "entity" => entity_row(r).and_then(|e| entity_rules(&e).map(|_| Row::Entity(e))),
        "relation" => relation_row(r).and_then(|x| relation_rules(&x).map(|_| Row::Relation(x))),
        "state_version" => {
            state_version_row(r).and_then(|s| state_version_rules(&s).map(|_| Row::StateVersion(s)))
        }
        "event_log" => event_row(r).and_then(|e| event_rules(&e).map(|_| Row::Event(e))),
        other => Err(format!("table: {other} cannot be imported")),
    };
    checked.map_err(|e| format!("row {}: {e}", row_name(table, r)))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub const ID: &str = "c200945aecb6af3bce86e574296ff939e80b6b92dad076f2910ed970345d1a98";

    fn one(table: &str, json: &str) -> Map<String, Value> {
        parse_rows(table, &format!("[{json}]")).unwrap().remove(0)
    }

    fn entity_json(id: u64, entity_type: &str, name: &str, data: &str) -> String {
        serde_json::json!({
            "id": id, "entity_type": entity_type, "name": name, "data": data, "version": 1,
            "owner": ID, "created_at": 1, "updated_at": 2,
        })
        .to_string()
    }

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
    fn applies_the_reducers_rules_and_names_the_row() {
        // (table, row, expected error prefix, or "" when the row is accepted)
        let cases: Vec<(&str, String, &str)> = vec![
            ("entity", entity_json(7, "person", "Ann", "{}"), ""),
            ("entity", entity_json(7, "person", "Ann", "[1]"), "row entity 7: data: must be a JSON object, got an array"),
            ("entity", entity_json(8, "person", "Ann", "not json"), "row entity 8: data: invalid JSON"),
            ("entity", entity_json(9, "9lives", "Ann", "{}"), "row entity 9: entity_type: must start with an ASCII letter"),
            ("entity", entity_json(0, "person", "Ann", "{}"), "row entity 0: id: must be a positive id"),
            ("entity", entity_json(3, "person", " Ann", "{}"), "row entity 3: name: must not have leading or trailing whitespace"),
            ("entity", format!("{{\"id\":\"7\",\"owner\":\"{ID}\"}}"), "row entity 7: rows: entity.id must be a non-negative integer"),
            (
                "relation",
                format!("{{\"id\":4,\"source_id\":1,\"target_id\":0,\"relation_type\":\"knows\",\"data\":\"{{}}\",\"version\":1,\"owner\":\"{ID}\",\"created_at\":1,\"updated_at\":1}}"),
                "row relation 4: target_id: must be a positive id",
            ),
            (
                "state_version",
                format!("{{\"version\":5,\"target_kind\":\"planet\",\"target_id\":1,\"change\":\"create\",\"data\":\"{{}}\",\"changed_by\":\"{ID}\",\"timestamp\":1}}"),
                "row state_version 5: target_kind: must be entity or relation",
            ),
            (
                "state_version",
                format!("{{\"version\":5,\"target_kind\":\"entity\",\"target_id\":1,\"change\":\"rename\",\"data\":\"{{}}\",\"changed_by\":\"{ID}\",\"timestamp\":1}}"),
                "row state_version 5: change: must be create, update or delete",
            ),
            ("config", format!("{{\"key\":\"Bad Key\",\"value\":\"v\",\"description\":null,\"updated_at\":1,\"updated_by\":\"{ID}\"}}"), "row config Bad Key: key: "),
            ("event_log", format!("{{\"id\":3,\"event_type\":\"X\",\"source\":\"{ID}\",\"timestamp\":1,\"data\":\"[]\"}}"), "row event_log 3: data: must be a JSON object"),
            ("event_log", format!("{{\"id\":3,\"event_type\":\"X\",\"source\":\"{ID}\",\"timestamp\":1,\"data\":\"{{}}\"}}"), ""),
        ];
        for (table, json, want) in cases {
            let got = convert(table, &one(table, &json));
            match (want, got) {
                ("", Ok(_)) => {}
                ("", Err(e)) => panic!("{table} {json}: refused: {e}"),
                (_, Ok(_)) => panic!("{table} {json}: accepted, expected {want}"),
                (_, Err(e)) => assert!(
                    e.starts_with(want),
                    "{table} {json}: {e} (expected {want}…)"
                ),
            }
        }
    }
}
