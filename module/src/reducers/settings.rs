//! Admin-only configuration reducers: `set_config`, `admin_operation`.

use spacetimedb::{reducer, ReducerContext, ScheduleAt, Table};

use super::common;
use crate::admin_ops::{self, AdminOp};
use crate::tables::{config, event_log, metric, metrics_schedule, Config, MetricsSchedule};
use crate::{config_rules, status};

/// Set (insert or replace) a config value. Admin only.
///
/// `feature_flags` and `server_config` must be JSON objects (see `config_rules`);
/// credential-looking keys/fields are refused because `config` is public.
#[reducer]
pub fn set_config(ctx: &ReducerContext, key: String, value: String) -> Result<(), String> {
    common::require_admin(ctx, "set_config")?;
    config_rules::check_set(&key, &value)?;

    let table = ctx.db.config();
    let existing = table.key().find(&key);
    let created = existing.is_none();
    let description = match existing {
        Some(row) => row.description,
        None => config_rules::default_description(&key).map(str::to_string),
    };
    let row = Config {
        key: key.clone(),
        value,
        description,
        updated_at: ctx.timestamp,
        updated_by: ctx.sender,
    };
    if created {
        table.try_insert(row).map_err(|e| format!("key: {e}"))?;
    } else {
        table.key().update(row);
    }
    // Configuration changes are always audited, whatever the feature flags say.
    common::log_event(
        ctx,
        "CONFIG_UPDATED",
        serde_json::json!({ "key": key, "created": created }),
    );
    log::info!("config {key:?} set by {}", ctx.sender);
    Ok(())
}

/// Run an administrative operation. Admin only.
/// `operation` is one of `admin_ops::OPERATIONS`; `args` is a JSON object.
#[reducer]
pub fn admin_operation(
    ctx: &ReducerContext,
    operation: String,
    args: String,
) -> Result<(), String> {
    common::require_admin(ctx, "admin_operation")?;
    let op = admin_ops::parse(&operation, &args)?;
    let detail = apply(ctx, &op)?;
    common::log_event(
        ctx,
        "ADMIN_OPERATION",
        serde_json::json!({ "operation": op.name(), "result": detail }),
    );
    Ok(())
}

fn apply(ctx: &ReducerContext, op: &AdminOp) -> Result<serde_json::Value, String> {
    let now = ctx.timestamp.to_micros_since_unix_epoch();
    match op {
        AdminOp::DeleteConfig { key } => {
            if !ctx.db.config().key().delete(key) {
                return Err(format!("args.key: no config row {key:?}"));
            }
            Ok(serde_json::json!({ "deleted": key }))
        }
        AdminOp::SetConfigDescription { key, description } => {
            let row = ctx
                .db
                .config()
                .key()
                .find(key)
                .ok_or_else(|| format!("args.key: no config row {key:?}"))?;
            ctx.db.config().key().update(Config {
                description: Some(description.clone()),
                updated_at: ctx.timestamp,
                updated_by: ctx.sender,
                ..row
            });
            Ok(serde_json::json!({ "key": key }))
        }
        AdminOp::PruneMetrics { keep_seconds } => {
            let cutoff = status::retention_cutoff(now, *keep_seconds);
            Ok(serde_json::json!({ "deleted": prune_metrics(ctx, cutoff) }))
        }
        AdminOp::PruneEvents { keep_seconds } => {
            let cutoff = status::retention_cutoff(now, *keep_seconds);
            let table = ctx.db.event_log();
            let old: Vec<u64> = table
                .iter()
                .filter(|e| e.timestamp.to_micros_since_unix_epoch() < cutoff)
                .map(|e| e.id)
                .collect();
            for id in &old {
                table.id().delete(id);
            }
            Ok(serde_json::json!({ "deleted": old.len() }))
        }
        AdminOp::SetMetricsInterval { seconds } => {
            let table = ctx.db.metrics_schedule();
            let existing: Vec<u64> = table.iter().map(|s| s.scheduled_id).collect();
            for id in &existing {
                table.scheduled_id().delete(id);
            }
            table
                .try_insert(MetricsSchedule {
                    scheduled_id: 0,
                    scheduled_at: ScheduleAt::Interval(
                        std::time::Duration::from_secs(*seconds).into(),
                    ),
                })
                .map_err(|e| format!("metrics_schedule: {e}"))?;
            Ok(serde_json::json!({ "seconds": seconds }))
        }
    }
}

/// Delete metric rows older than `cutoff` (µs since epoch). Returns how many.
pub fn prune_metrics(ctx: &ReducerContext, cutoff: i64) -> usize {
    let table = ctx.db.metric();
    let old: Vec<u64> = table
        .iter()
        .filter(|m| m.timestamp.to_micros_since_unix_epoch() < cutoff)
        .map(|m| m.id)
        .collect();
    for id in &old {
        table.id().delete(id);
    }
    old.len()
}
