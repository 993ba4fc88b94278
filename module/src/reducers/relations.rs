//! Relation reducers: `create_relation`, `update_relation`, `delete_relation`.
//!
//! A relation is a directed edge between two existing entities. Creating one
//! requires owning the source entity (or being an admin); the creator owns the
//! relation, and only the owner or an admin may update or delete it.

use spacetimedb::{reducer, ReducerContext, Table};

use super::common;
use crate::tables::{entity, relation, Relation};
use crate::versioning::{self, Change, Target};
use crate::{integrity, validate};

pub(super) fn snapshot(r: &Relation) -> String {
    versioning::relation_snapshot(
        r.id,
        r.source_id,
        r.target_id,
        &r.relation_type,
        &r.data,
        r.version,
    )
}

fn load_for_change(ctx: &ReducerContext, id: u64) -> Result<Relation, String> {
    validate::row_id("id", id)?;
    let row = ctx
        .db
        .relation()
        .id()
        .find(id)
        .ok_or_else(|| format!("id: relation {id} does not exist"))?;
    common::require_owner_or_admin(ctx, row.owner, &format!("relation {id}"))?;
    Ok(row)
}

#[reducer]
pub fn create_relation(
    ctx: &ReducerContext,
    source_id: u64,
    target_id: u64,
    relation_type: String,
    data: String,
) -> Result<(), String> {
    validate::row_id("source_id", source_id)?;
    validate::row_id("target_id", target_id)?;
    validate::type_name("relation_type", &relation_type)?;
    validate::json_object("data", &data, validate::MAX_DATA_BYTES)?;

    let source = ctx.db.entity().id().find(source_id);
    let target_exists = ctx.db.entity().id().find(target_id).is_some();
    integrity::check_endpoints(source.is_some(), target_exists, source_id, target_id)?;
    if let Some(source) = source {
        common::require_owner_or_admin(ctx, source.owner, &format!("source entity {source_id}"))?;
    }
    let duplicate = ctx
        .db
        .relation()
        .source_id()
        .filter(source_id)
        .find(|r| r.target_id == target_id && r.relation_type == relation_type)
        .map(|r| r.id);
    integrity::check_not_duplicate(duplicate)?;

    let row = ctx
        .db
        .relation()
        .try_insert(Relation {
            id: 0,
            source_id,
            target_id,
            relation_type,
            data,
            version: 1,
            owner: ctx.sender,
            created_at: ctx.timestamp,
            updated_at: ctx.timestamp,
        })
        .map_err(|e| format!("relation: {e}"))?;
    let flags = common::feature_flags(ctx);
    common::record_change(
        ctx,
        &flags,
        Target::Relation,
        Change::Create,
        row.id,
        snapshot(&row),
    )
}

/// Replace a relation's data (its endpoints and type are fixed at creation).
#[reducer]
pub fn update_relation(ctx: &ReducerContext, id: u64, data: String) -> Result<(), String> {
    validate::json_object("data", &data, validate::MAX_DATA_BYTES)?;
    let old = load_for_change(ctx, id)?;
    let version = versioning::next_row_version(old.version)?;
    let row = ctx.db.relation().id().update(Relation {
        data,
        version,
        updated_at: ctx.timestamp,
        ..old
    });
    let flags = common::feature_flags(ctx);
    common::record_change(
        ctx,
        &flags,
        Target::Relation,
        Change::Update,
        id,
        snapshot(&row),
    )
}

#[reducer]
pub fn delete_relation(ctx: &ReducerContext, id: u64) -> Result<(), String> {
    let row = load_for_change(ctx, id)?;
    ctx.db.relation().id().delete(id);
    let flags = common::feature_flags(ctx);
    common::record_change(
        ctx,
        &flags,
        Target::Relation,
        Change::Delete,
        id,
        snapshot(&row),
    )
}
