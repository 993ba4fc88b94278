//! The whole import, checked before anything is written: every staged batch converted
//! (`rows::convert`), tables in export order, no duplicate keys, relations only between
//! imported entities and never twice the same edge, and the counts the export's header
//! announced. `import_finish` writes only a plan this accepted, so a refusal leaves the real
//! tables untouched. Pure, unit-tested on the host.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};

use super::rows::{self, Row, TABLES};
use crate::integrity;
use crate::tables::{Config, Entity, EventLog, Relation, StateVersion};

#[derive(Default)]
pub struct Plan {
    pub config: Vec<Config>,
    /// By id, ascending (the id-sequence loop needs them in order).
    pub entities: Vec<Entity>,
    /// By id, ascending.
    pub relations: Vec<Relation>,
    pub versions: Vec<StateVersion>,
    pub events: Vec<EventLog>,
}

/// Compares the export header's counts with what the import holds.
pub fn check_counts(expected: &Map<String, Value>, actual: &[(&str, u64)]) -> Result<(), String> {
    let mut wrong = Vec::new();
    for (table, have) in actual {
        let want = expected.get(*table).and_then(Value::as_u64).unwrap_or(0);
        if want != *have {
            wrong.push(format!("{table}: export has {want}, import has {have}"));
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!("counts: {}", wrong.join("; ")))
    }
}

fn first_time<K: Ord>(seen: &mut BTreeSet<K>, key: K, what: String) -> Result<(), String> {
    if seen.insert(key) {
        Ok(())
    } else {
        Err(format!(
            "row {what}: duplicate key (the import has this row twice)"
        ))
    }
}

/// `batches`: (table, JSON array of rows) in the order `import_rows` received them.
pub fn plan(batches: &[(&str, &str)], counts: &Map<String, Value>) -> Result<Plan, String> {
    let mut p = Plan::default();
    let (mut keys, mut ids, mut rel_ids, mut versions) = (
        BTreeSet::new(),
        BTreeSet::new(),
        BTreeSet::new(),
        BTreeSet::new(),
    );
    let mut last = 0;
    for (table, json) in batches {
        let idx = TABLES
            .iter()
            .position(|t| t == table)
            .ok_or_else(|| format!("table: {table} cannot be imported"))?;
        if idx < last {
            return Err(format!(
                "rows: {table} rows after {} rows; send tables in export order",
                TABLES[last]
            ));
        }
        last = idx;
        for r in rows::parse_rows(table, json)? {
            match rows::convert(table, &r)? {
                Row::Config(c) => {
                    first_time(&mut keys, c.key.clone(), format!("config {}", c.key))?;
                    p.config.push(c);
                }
                Row::Entity(e) => {
                    first_time(&mut ids, e.id, format!("entity {}", e.id))?;
                    p.entities.push(e);
                }
                Row::Relation(x) => {
                    first_time(&mut rel_ids, x.id, format!("relation {}", x.id))?;
                    p.relations.push(x);
                }
                Row::StateVersion(s) => {
                    first_time(
                        &mut versions,
                        s.version,
                        format!("state_version {}", s.version),
                    )?;
                    p.versions.push(s);
                }
                Row::Event(e) => p.events.push(e),
            }
        }
    }
    let mut edges: HashMap<(u64, u64, &str), u64> = HashMap::new();
    for x in &p.relations {
        integrity::check_endpoints(
            ids.contains(&x.source_id),
            ids.contains(&x.target_id),
            x.source_id,
            x.target_id,
        )
        .map_err(|e| format!("row relation {}: {e} among the imported entities", x.id))?;
        let twin = edges.insert((x.source_id, x.target_id, x.relation_type.as_str()), x.id);
        integrity::check_not_duplicate(twin).map_err(|e| format!("row relation {}: {e}", x.id))?;
    }
    check_counts(
        counts,
        &[
            ("config", p.config.len() as u64),
            ("entity", p.entities.len() as u64),
            ("relation", p.relations.len() as u64),
            ("state_version", p.versions.len() as u64),
            ("event_log", p.events.len() as u64),
        ],
    )?;
    p.entities.sort_by_key(|e| e.id);
    p.relations.sort_by_key(|r| r.id);
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "c200945aecb6af3bce86e574296ff939e80b6b92dad076f2910ed970345d1a98";

    fn entities(ids: &[u64]) -> String {
        let rows: Vec<Value> = ids
            .iter()
            .map(|id| serde_json::json!({"id": id, "entity_type": "person", "name": format!("n{id}"), "data": "{}", "version": 1, "owner": ID, "created_at": 1, "updated_at": 1}))
            .collect();
        Value::Array(rows).to_string()
    }

    fn relations(edges: &[(u64, u64, u64)]) -> String {
        let rows: Vec<Value> = edges
            .iter()
            .map(|(id, s, t)| serde_json::json!({"id": id, "source_id": s, "target_id": t, "relation_type": "knows", "data": "{}", "version": 1, "owner": ID, "created_at": 1, "updated_at": 1}))
            .collect();
        Value::Array(rows).to_string()
    }

    fn counts(json: &str) -> Map<String, Value> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn accepts_a_whole_import_and_orders_ids() {
        let e = entities(&[3, 1]);
        let r = relations(&[(2, 1, 3)]);
        let p = plan(
            &[("entity", &e), ("relation", &r)],
            &counts("{\"entity\":2,\"relation\":1}"),
        )
        .ok()
        .unwrap();
        assert_eq!(
            p.entities.iter().map(|e| e.id).collect::<Vec<_>>(),
            vec![1, 3]
        );
        assert_eq!(p.relations.len(), 1);
    }

    #[test]
    fn refuses_what_no_single_row_shows() {
        let (e12, e1, e3) = (entities(&[1, 2]), entities(&[1]), entities(&[3]));
        let r_missing = relations(&[(1, 1, 9)]);
        let r_twice = relations(&[(1, 1, 2), (2, 1, 2)]);
        let bad_row = entities(&[0]);
        // (batches, counts, expected error prefix)
        type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);
        let cases: Vec<Case> = vec![
            (
                vec![("entity", &e1), ("entity", &e1)],
                "{\"entity\":2}",
                "row entity 1: duplicate key",
            ),
            (
                vec![("entity", &e12), ("relation", &r_missing)],
                "{\"entity\":2,\"relation\":1}",
                "row relation 1: target_id: entity 9 does not exist among the imported entities",
            ),
            (
                vec![("entity", &e12), ("relation", &r_twice)],
                "{\"entity\":2,\"relation\":2}",
                "row relation 2: relation_type: the same relation already exists (relation 1)",
            ),
            (
                vec![("relation", "[]"), ("entity", &e3)],
                "{\"entity\":1}",
                "rows: entity rows after relation rows",
            ),
            (
                vec![("entity", &e1)],
                "{\"entity\":2}",
                "counts: entity: export has 2, import has 1",
            ),
            (
                vec![("entity", &e1)],
                "{\"entity\":1,\"config\":1}",
                "counts: config: export has 1, import has 0",
            ),
            (
                vec![("entity", &bad_row)],
                "{\"entity\":1}",
                "row entity 0: id: must be a positive id",
            ),
            (vec![("admin", "[]")], "{}", "table: admin"),
        ];
        for (batches, want_counts, want) in cases {
            let err = plan(&batches, &counts(want_counts))
                .err()
                .unwrap_or_else(|| panic!("accepted, expected {want}"));
            assert!(err.starts_with(want), "{err} (expected {want}…)");
        }
    }

    #[test]
    fn counts_must_match() {
        let want = counts("{\"entity\":2,\"relation\":1}");
        assert!(check_counts(
            &want,
            &[("entity", 2), ("relation", 1), ("state_version", 0)]
        )
        .is_ok());
        assert_eq!(
            check_counts(&want, &[("entity", 1), ("relation", 1)]).unwrap_err(),
            "counts: entity: export has 2, import has 1"
        );
    }
}
