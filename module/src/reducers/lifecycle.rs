//! Lifecycle reducers: `init`, `client_connected`, `client_disconnected`.

use std::time::Duration;

use spacetimedb::{reducer, ReducerContext, ScheduleAt, Table};

use super::common::{self, MODULE_VERSION};
use crate::config_rules::{self, MODULE_CONFIG_KEY, START_TIME_KEY};
use crate::tables::{
    admin, client_connection, config, metrics_schedule, Admin, ClientConnection, Config,
    MetricsSchedule,
};
use crate::{presence, status};

fn put_config(
    ctx: &ReducerContext,
    key: &str,
    value: String,
    description: &str,
) -> Result<(), String> {
    let row = Config {
        key: key.to_string(),
        value,
        description: Some(description.to_string()),
        updated_at: ctx.timestamp,
        updated_by: ctx.sender,
    };
    if ctx.db.config().key().find(key.to_string()).is_some() {
        ctx.db.config().key().update(row);
    } else {
        ctx.db
            .config()
            .try_insert(row)
            .map_err(|e| format!("config: {e}"))?;
    }
    Ok(())
}

/// Runs once when the database is first published (or cleared).
/// The publishing identity (`ctx.sender`) becomes the first admin.
#[reducer(init)]
pub fn init(ctx: &ReducerContext) -> Result<(), String> {
    log::info!("Initializing Inner Universe module {MODULE_VERSION}");

    put_config(
        ctx,
        MODULE_CONFIG_KEY,
        config_rules::default_module_config(MODULE_VERSION),
        "Default module configuration",
    )?;
    put_config(
        ctx,
        START_TIME_KEY,
        status::format_start_time(ctx.timestamp.to_micros_since_unix_epoch()),
        "Module start time (microseconds since the Unix epoch)",
    )?;

    if !common::is_admin(ctx, ctx.sender) {
        ctx.db
            .admin()
            .try_insert(Admin {
                identity: ctx.sender,
                granted_at: ctx.timestamp,
                granted_by: ctx.sender,
            })
            .map_err(|e| format!("admin: {e}"))?;
    }

    if ctx.db.metrics_schedule().count() == 0 {
        ctx.db
            .metrics_schedule()
            .try_insert(MetricsSchedule {
                scheduled_id: 0,
                scheduled_at: ScheduleAt::Interval(
                    Duration::from_secs(status::DEFAULT_METRICS_INTERVAL_SECS).into(),
                ),
            })
            .map_err(|e| format!("metrics_schedule: {e}"))?;
    }

    common::log_event(
        ctx,
        "SYSTEM_INITIALIZED",
        serde_json::json!({
            "version": MODULE_VERSION,
            "initialized_by": ctx.sender.to_hex().to_string(),
        }),
    );
    common::refresh_status(ctx);

    log::info!(
        "Inner Universe module initialized; first admin {}",
        ctx.sender
    );
    Ok(())
}

/// Track the caller's connections. Note: every HTTP `/call` also runs
/// `client_connected` / `client_disconnected` around the reducer, so this must
/// stay cheap (O(1)) and does not write to the audit log.
#[reducer(client_connected)]
pub fn client_connected(ctx: &ReducerContext) -> Result<(), String> {
    let table = ctx.db.client_connection();
    let previous = table.identity().find(ctx.sender);
    let before = previous.as_ref().map(|c| c.active_connections);
    let active = presence::after_connect(before);
    let row = ClientConnection {
        identity: ctx.sender,
        status: presence::status_for(active).to_string(),
        active_connections: active,
        connected_at: ctx.timestamp,
        disconnected_at: previous.and_then(|c| c.disconnected_at),
    };
    if before.is_some() {
        table.identity().update(row);
    } else {
        table
            .try_insert(row)
            .map_err(|e| format!("client_connection: {e}"))?;
    }
    common::adjust_connected_clients(ctx, presence::connected_delta(before.unwrap_or(0), active));
    Ok(())
}

#[reducer(client_disconnected)]
pub fn client_disconnected(ctx: &ReducerContext) -> Result<(), String> {
    let table = ctx.db.client_connection();
    let Some(previous) = table.identity().find(ctx.sender) else {
        // Connected before this module tracked connections; nothing to update.
        return Ok(());
    };
    let before = previous.active_connections;
    let active = presence::after_disconnect(Some(before));
    table.identity().update(ClientConnection {
        status: presence::status_for(active).to_string(),
        active_connections: active,
        disconnected_at: Some(ctx.timestamp),
        ..previous
    });
    common::adjust_connected_clients(ctx, presence::connected_delta(before, active));
    Ok(())
}
