//! Inner Universe SpacetimeDB module.
//!
//! Built against `spacetimedb = "=1.2.0"` (module ABI `spacetime_10.0`,
//! `RawModuleDef::V9`), which loads on SpacetimeDB 1.2 and on 2.x servers.
//! See README.md.
//!
//! Layout: `tables` (schema), `reducers/*` (database glue), and pure,
//! host-testable logic in `validate`, `flags`, `config_rules`, `auth`,
//! `integrity`, `versioning`, `presence`, `status`, `admin_ops`.

pub mod admin_ops;
pub mod auth;
pub mod config_rules;
pub mod flags;
pub mod import;
pub mod integrity;
pub mod presence;
pub mod reducers;
pub mod status;
pub mod tables;
pub mod validate;
pub mod versioning;
