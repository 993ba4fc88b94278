//! Status and metrics: `refresh_system_status` and the scheduled `record_metrics`.

use spacetimedb::{reducer, ReducerContext, Table};

use super::{common, settings};
use crate::tables::{metric, Metric, MetricsSchedule};
use crate::{auth, status};

/// Recompute the `system_status` row (counts, connected clients, uptime, version).
/// Any client may call it; it only rewrites derived data.
#[reducer]
pub fn refresh_system_status(ctx: &ReducerContext) -> Result<(), String> {
    common::refresh_status(ctx);
    Ok(())
}

/// Periodic tick from `metrics_schedule`: refreshes `system_status` and, when
/// `enable_metrics` is on, appends one `metric` row per sample and prunes rows
/// older than `status::METRIC_RETENTION_SECS`. Only the scheduler may call it.
#[reducer]
pub fn record_metrics(ctx: &ReducerContext, _tick: MetricsSchedule) -> Result<(), String> {
    auth::require_scheduler(ctx.sender == ctx.identity(), "record_metrics")?;
    let counts = common::refresh_status(ctx);
    if !common::feature_flags(ctx).enable_metrics {
        return Ok(());
    }
    let uptime = common::uptime_seconds(ctx);
    for (name, value) in status::metric_samples(&counts, uptime) {
        ctx.db.metric().insert(Metric {
            id: 0,
            name: name.to_string(),
            value,
            timestamp: ctx.timestamp,
        });
    }
    let cutoff = status::retention_cutoff(
        ctx.timestamp.to_micros_since_unix_epoch(),
        status::METRIC_RETENTION_SECS,
    );
    settings::prune_metrics(ctx, cutoff);
    Ok(())
}
