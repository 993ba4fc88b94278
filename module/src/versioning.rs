//! State-versioning and audit decisions (pure, host-testable).
//!
//! Every entity/relation change may append one `state_version` row (global,
//! strictly increasing `version`, no gaps) and one `event_log` row, depending
//! on the feature flags.

use serde_json::Value;

use crate::flags::FeatureFlags;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Entity,
    Relation,
}

impl Target {
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Entity => "entity",
            Target::Relation => "relation",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Create,
    Update,
    Delete,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Create => "create",
            Change::Update => "update",
            Change::Delete => "delete",
        }
    }
}

/// Audit event type for a change, e.g. `ENTITY_CREATED`.
pub fn event_type(target: Target, change: Change) -> &'static str {
    match (target, change) {
        (Target::Entity, Change::Create) => "ENTITY_CREATED",
        (Target::Entity, Change::Update) => "ENTITY_UPDATED",
        (Target::Entity, Change::Delete) => "ENTITY_DELETED",
        (Target::Relation, Change::Create) => "RELATION_CREATED",
        (Target::Relation, Change::Update) => "RELATION_UPDATED",
        (Target::Relation, Change::Delete) => "RELATION_DELETED",
    }
}

/// What to record for a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordPlan {
    pub state_version: bool,
    pub audit_event: bool,
}

pub fn plan(flags: &FeatureFlags) -> RecordPlan {
    RecordPlan {
        state_version: flags.enable_state_versioning,
        audit_event: flags.enable_audit_log,
    }
}

/// Next global state version after `last` (0 = none yet), failing instead of wrapping.
pub fn next_version(last: u64) -> Result<u64, String> {
    last.checked_add(1)
        .ok_or_else(|| "state_version: version counter exhausted".to_string())
}

/// Next per-row version (rows start at 1).
pub fn next_row_version(current: u64) -> Result<u64, String> {
    current
        .checked_add(1)
        .ok_or_else(|| "version: row version exhausted".to_string())
}

/// Parse stored JSON text for embedding in a snapshot; stored data is validated
/// on write, but never panic if it is not.
fn embed(data: &str) -> Value {
    serde_json::from_str(data).unwrap_or_else(|_| Value::String(data.to_string()))
}

/// Snapshot of an entity, stored in `state_version.data`.
pub fn entity_snapshot(id: u64, entity_type: &str, name: &str, data: &str, version: u64) -> String {
    serde_json::json!({
        "id": id,
        "entity_type": entity_type,
        "name": name,
        "data": embed(data),
        "version": version,
    })
    .to_string()
}

/// Snapshot of a relation, stored in `state_version.data`.
pub fn relation_snapshot(
    id: u64,
    source_id: u64,
    target_id: u64,
    relation_type: &str,
    data: &str,
    version: u64,
) -> String {
    serde_json::json!({
        "id": id,
        "source_id": source_id,
        "target_id": target_id,
        "relation_type": relation_type,
        "data": embed(data),
        "version": version,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_follows_flags() {
        let mut f = FeatureFlags::default();
        assert_eq!(
            plan(&f),
            RecordPlan {
                state_version: true,
                audit_event: true
            }
        );
        f.enable_state_versioning = false;
        assert_eq!(
            plan(&f),
            RecordPlan {
                state_version: false,
                audit_event: true
            }
        );
        f.enable_audit_log = false;
        assert_eq!(
            plan(&f),
            RecordPlan {
                state_version: false,
                audit_event: false
            }
        );
    }

    #[test]
    fn versions_increase_and_never_wrap() {
        assert_eq!(next_version(0).unwrap(), 1);
        assert_eq!(next_version(41).unwrap(), 42);
        assert!(next_version(u64::MAX)
            .unwrap_err()
            .starts_with("state_version:"));
        assert_eq!(next_row_version(1).unwrap(), 2);
        assert!(next_row_version(u64::MAX).is_err());
    }

    #[test]
    fn event_types() {
        assert_eq!(event_type(Target::Entity, Change::Create), "ENTITY_CREATED");
        assert_eq!(
            event_type(Target::Relation, Change::Delete),
            "RELATION_DELETED"
        );
        assert_eq!(Target::Relation.as_str(), "relation");
        assert_eq!(Change::Update.as_str(), "update");
    }

    #[test]
    fn snapshots_embed_data_as_json() {
        let s: Value =
            serde_json::from_str(&entity_snapshot(7, "Person", "Ann", r#"{"age":3}"#, 2)).unwrap();
        assert_eq!(s["id"], 7);
        assert_eq!(s["data"]["age"], 3);
        assert_eq!(s["version"], 2);
        let r: Value = serde_json::from_str(&relation_snapshot(1, 2, 3, "knows", "{}", 1)).unwrap();
        assert_eq!(r["source_id"], 2);
        assert_eq!(r["target_id"], 3);
        // Corrupt stored data is embedded as a string, not a panic.
        let c: Value = serde_json::from_str(&entity_snapshot(1, "T", "n", "{bad", 1)).unwrap();
        assert_eq!(c["data"], "{bad");
    }
}
