//! Reducers, one file per concern. Pure decisions live in the crate-level
//! modules (`validate`, `auth`, `versioning`, ...); these files only read and
//! write tables.

pub mod admins;
pub mod common;
pub mod entities;
pub mod lifecycle;
pub mod relations;
pub mod settings;
pub mod system;
