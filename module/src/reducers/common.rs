//! Database glue shared by the reducers: look facts up, hand them to the pure
//! decision functions, and write the results.

use serde_json::Value;
use spacetimedb::{Identity, ReducerContext, Table};

use crate::flags::{self, FeatureFlags};
use crate::tables::{
    admin, client_connection, config, entity, event_log, relation, state_version, system_status,
    version_counter, EventLog, StateVersion, SystemStatus, VersionCounter,
};
use crate::versioning::{self, Change, Target};
use crate::{auth, presence, status, validate};

/// Module version reported in `system_status` and `module_config`.
pub const MODULE_VERSION: &str = env!("CARGO_PKG_VERSION");

const VERSION_COUNTER_ID: u32 = 0;

pub fn config_value(ctx: &ReducerContext, key: &str) -> Option<String> {
    ctx.db
        .config()
        .key()
        .find(key.to_string())
        .map(|row| row.value)
}

pub fn feature_flags(ctx: &ReducerContext) -> FeatureFlags {
    flags::from_stored(config_value(ctx, flags::FEATURE_FLAGS_KEY).as_deref())
}

pub fn is_admin(ctx: &ReducerContext, identity: Identity) -> bool {
    ctx.db.admin().identity().find(identity).is_some()
}

/// `Err` unless the caller is an admin.
pub fn require_admin(ctx: &ReducerContext, action: &str) -> Result<(), String> {
    auth::require_admin(is_admin(ctx, ctx.sender), action)
}

/// `Err` unless the caller owns `what` (its owner is `owner`) or is an admin.
pub fn require_owner_or_admin(
    ctx: &ReducerContext,
    owner: Identity,
    what: &str,
) -> Result<(), String> {
    auth::require_owner_or_admin(owner == ctx.sender, is_admin(ctx, ctx.sender), what)
}

/// Parse a hex identity argument.
pub fn parse_identity(field: &str, hex: &str) -> Result<Identity, String> {
    let digits = validate::identity_hex(field, hex)?;
    Identity::from_hex(digits).map_err(|e| format!("{field}: {e}"))
}

/// Append an `event_log` row. `data` must be a JSON object.
pub fn log_event(ctx: &ReducerContext, event_type: &str, data: Value) {
    ctx.db.event_log().insert(EventLog {
        id: 0,
        event_type: event_type.to_string(),
        source: ctx.sender,
        timestamp: ctx.timestamp,
        data: data.to_string(),
    });
}

/// Allocate the next global state version (strictly increasing, gap-free).
fn allocate_state_version(ctx: &ReducerContext) -> Result<u64, String> {
    let counters = ctx.db.version_counter();
    let existing = counters.id().find(VERSION_COUNTER_ID);
    let next = versioning::next_version(existing.as_ref().map_or(0, |c| c.last_version))?;
    let row = VersionCounter {
        id: VERSION_COUNTER_ID,
        last_version: next,
    };
    if existing.is_some() {
        counters.id().update(row);
    } else {
        counters.insert(row);
    }
    Ok(next)
}

/// Record one entity/relation change as the feature flags ask:
/// a `state_version` row and/or an audit event.
pub fn record_change(
    ctx: &ReducerContext,
    flags: &FeatureFlags,
    target: Target,
    change: Change,
    target_id: u64,
    snapshot: String,
) -> Result<(), String> {
    let plan = versioning::plan(flags);
    let mut state_version = None;
    if plan.state_version {
        let version = allocate_state_version(ctx)?;
        ctx.db
            .state_version()
            .try_insert(StateVersion {
                version,
                target_kind: target.as_str().to_string(),
                target_id,
                change: change.as_str().to_string(),
                data: snapshot,
                changed_by: ctx.sender,
                timestamp: ctx.timestamp,
            })
            .map_err(|e| format!("state_version: {e}"))?;
        state_version = Some(version);
    }
    if plan.audit_event {
        log_event(
            ctx,
            versioning::event_type(target, change),
            serde_json::json!({
                "target": target.as_str(),
                "id": target_id,
                "state_version": state_version,
            }),
        );
    }
    Ok(())
}

/// Current counts, for `system_status` and metrics.
pub fn counts(ctx: &ReducerContext) -> status::Counts {
    status::Counts {
        entities: ctx.db.entity().count(),
        relations: ctx.db.relation().count(),
        events: ctx.db.event_log().count(),
        state_versions: ctx.db.state_version().count(),
        connected_clients: ctx
            .db
            .client_connection()
            .iter()
            .filter(|c| c.active_connections > 0)
            .count() as u64,
    }
}

/// Uptime since the `start_time` config row (first publish / last clear).
pub fn uptime_seconds(ctx: &ReducerContext) -> u64 {
    let now = ctx.timestamp.to_micros_since_unix_epoch();
    let start = config_value(ctx, crate::config_rules::START_TIME_KEY)
        .as_deref()
        .and_then(status::parse_start_time)
        .unwrap_or(now);
    status::uptime_seconds(start, now)
}

/// Rewrite the singleton `system_status` row. Returns the counts used.
pub fn refresh_status(ctx: &ReducerContext) -> status::Counts {
    let counts = counts(ctx);
    let row = SystemStatus {
        id: status::SYSTEM_STATUS_ID,
        status: status::STATUS_RUNNING.to_string(),
        version: MODULE_VERSION.to_string(),
        uptime_seconds: uptime_seconds(ctx),
        entity_count: counts.entities,
        relation_count: counts.relations,
        event_count: counts.events,
        state_version_count: counts.state_versions,
        connected_clients: counts.connected_clients,
        updated_at: ctx.timestamp,
    };
    let table = ctx.db.system_status();
    if table.id().find(status::SYSTEM_STATUS_ID).is_some() {
        table.id().update(row);
    } else {
        table.insert(row);
    }
    counts
}

/// O(1) update of `system_status.connected_clients` on connect/disconnect.
/// `updated_at` keeps the time of the last full recount (`refresh_status`).
pub fn adjust_connected_clients(ctx: &ReducerContext, delta: i8) {
    if delta == 0 {
        return;
    }
    let table = ctx.db.system_status();
    if let Some(row) = table.id().find(status::SYSTEM_STATUS_ID) {
        table.id().update(SystemStatus {
            connected_clients: presence::apply_delta(row.connected_clients, delta),
            ..row
        });
    }
}
