//! Admin membership: `grant_admin`, `revoke_admin`. Admin only.
//!
//! Identities are passed as hex strings (64 hex digits, optional `0x`), the
//! form `POST /v1/identity` returns and SDKs print (`identity.toHexString()`).

use spacetimedb::{reducer, ReducerContext, Table};

use super::common;
use crate::auth;
use crate::tables::{admin, Admin};

#[reducer]
pub fn grant_admin(ctx: &ReducerContext, identity: String) -> Result<(), String> {
    common::require_admin(ctx, "grant_admin")?;
    let target = common::parse_identity("identity", &identity)?;
    auth::check_grant(common::is_admin(ctx, target))?;
    ctx.db
        .admin()
        .try_insert(Admin {
            identity: target,
            granted_at: ctx.timestamp,
            granted_by: ctx.sender,
        })
        .map_err(|e| format!("identity: {e}"))?;
    common::log_event(
        ctx,
        "ADMIN_GRANTED",
        serde_json::json!({ "identity": target.to_hex().to_string() }),
    );
    Ok(())
}

#[reducer]
pub fn revoke_admin(ctx: &ReducerContext, identity: String) -> Result<(), String> {
    common::require_admin(ctx, "revoke_admin")?;
    let target = common::parse_identity("identity", &identity)?;
    auth::check_revoke(common::is_admin(ctx, target), ctx.db.admin().count())?;
    ctx.db.admin().identity().delete(target);
    common::log_event(
        ctx,
        "ADMIN_REVOKED",
        serde_json::json!({ "identity": target.to_hex().to_string() }),
    );
    Ok(())
}
