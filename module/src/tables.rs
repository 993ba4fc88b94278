//! Table definitions.
//!
//! Visibility is deliberate:
//! - public (any client may subscribe/query): `config`, `entity`, `relation`,
//!   `state_version`, `metric`, `system_status`.
//! - private (module and database owner only): `admin` (who is admin is not
//!   disclosed), `event_log` (audit trail: identities, admin changes),
//!   `client_connection` (who is online), `version_counter`, `metrics_schedule`,
//!   `import_session` and `import_batch` (an import's staged rows).
//!
//! Column types are part of the client contract (SDK bindings, SQL); 1.x
//! servers cannot add or change columns in an automatic migration, so change
//! them only together with a data migration plan.

use spacetimedb::{table, Identity, ScheduleAt, Timestamp};

/// Key/value configuration. Public: never store secrets here
/// (`set_config` refuses credential-looking keys and fields).
#[table(name = config, public)]
pub struct Config {
    #[primary_key]
    pub key: String,
    pub value: String,
    pub description: Option<String>,
    pub updated_at: Timestamp,
    pub updated_by: Identity,
}

/// Audit/event log. Private.
#[table(name = event_log)]
pub struct EventLog {
    #[primary_key]
    #[auto_inc]
    pub id: u64,
    #[index(btree)]
    pub event_type: String,
    /// Identity that caused the event (the module's own identity for scheduled work).
    pub source: Identity,
    pub timestamp: Timestamp,
    /// JSON object.
    pub data: String,
}

#[table(name = entity, public)]
pub struct Entity {
    #[primary_key]
    #[auto_inc]
    pub id: u64,
    #[index(btree)]
    pub entity_type: String,
    pub name: String,
    /// JSON object.
    pub data: String,
    /// Per-row version, 1 on create, +1 on every update.
    pub version: u64,
    pub owner: Identity,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Directed relation between two existing entities.
#[table(name = relation, public)]
pub struct Relation {
    #[primary_key]
    #[auto_inc]
    pub id: u64,
    #[index(btree)]
    pub source_id: u64,
    #[index(btree)]
    pub target_id: u64,
    pub relation_type: String,
    /// JSON object.
    pub data: String,
    pub version: u64,
    pub owner: Identity,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Append-only log of entity/relation changes. `version` is global,
/// strictly increasing and gap-free (allocated from `version_counter`).
#[table(name = state_version, public)]
pub struct StateVersion {
    #[primary_key]
    pub version: u64,
    /// "entity" or "relation".
    pub target_kind: String,
    #[index(btree)]
    pub target_id: u64,
    /// "create", "update" or "delete".
    pub change: String,
    /// JSON snapshot of the row after the change (before it, for deletes).
    pub data: String,
    pub changed_by: Identity,
    pub timestamp: Timestamp,
}

/// Singleton holding the last allocated state version. Private.
#[table(name = version_counter)]
pub struct VersionCounter {
    #[primary_key]
    pub id: u32,
    pub last_version: u64,
}

/// One row per identity that ever connected. Private.
#[table(name = client_connection)]
pub struct ClientConnection {
    #[primary_key]
    pub identity: Identity,
    /// "connected" or "disconnected".
    pub status: String,
    /// Number of currently open connections of this identity.
    pub active_connections: u32,
    pub connected_at: Timestamp,
    pub disconnected_at: Option<Timestamp>,
}

/// Admin identities. Private: the admin list is not readable by clients.
#[table(name = admin)]
pub struct Admin {
    #[primary_key]
    pub identity: Identity,
    pub granted_at: Timestamp,
    pub granted_by: Identity,
}

#[table(name = metric, public)]
pub struct Metric {
    #[primary_key]
    #[auto_inc]
    pub id: u64,
    #[index(btree)]
    pub name: String,
    pub value: f64,
    pub timestamp: Timestamp,
}

/// Singleton (`id` = 0) maintained by `refresh_system_status` and the metrics tick;
/// `connected_clients` is also kept current on every connect/disconnect.
/// `updated_at` is the time of the last full recount.
#[table(name = system_status, public)]
pub struct SystemStatus {
    #[primary_key]
    pub id: u32,
    pub status: String,
    pub version: String,
    pub uptime_seconds: u64,
    pub entity_count: u64,
    pub relation_count: u64,
    pub event_count: u64,
    pub state_version_count: u64,
    pub connected_clients: u64,
    pub updated_at: Timestamp,
}

/// Schedule of the periodic `record_metrics` reducer. Private.
#[table(name = metrics_schedule, scheduled(crate::reducers::system::record_metrics))]
pub struct MetricsSchedule {
    #[primary_key]
    #[auto_inc]
    pub scheduled_id: u64,
    pub scheduled_at: ScheduleAt,
}

/// The import in progress (`import_begin` until `import_finish` or `import_abort`), if any:
/// singleton (`id` = 0). Private.
#[table(name = import_session)]
pub struct ImportSession {
    #[primary_key]
    pub id: u32,
    /// The export's header as `import_begin` received it (JSON object).
    pub header: String,
    /// Only this identity may add rows to, or finish, the import.
    pub begun_by: Identity,
    pub begun_at: Timestamp,
}

/// Rows of the import in progress, one row per `import_rows` call, as received; nothing reaches
/// the real tables until `import_finish` applies them all in one transaction. Private.
#[table(name = import_batch)]
pub struct ImportBatch {
    #[primary_key]
    #[auto_inc]
    pub id: u64,
    pub table_name: String,
    /// JSON array of rows (`backup export` format).
    pub rows: String,
}
