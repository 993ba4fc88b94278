//! Entity reducers: `create_entity`, `update_entity`, `delete_entity`.
//!
//! Anyone may create an entity (and becomes its owner); only the owner or an
//! admin may update or delete it.

use spacetimedb::{reducer, ReducerContext, Table};

use super::common;
use crate::tables::{entity, relation, Entity};
use crate::versioning::{self, Change, Target};
use crate::{integrity, validate};

fn check_fields(name: &str, data: &str) -> Result<(), String> {
    validate::text("name", name, validate::MAX_NAME_CHARS)?;
    validate::json_object("data", data, validate::MAX_DATA_BYTES)?;
    Ok(())
}

fn snapshot(e: &Entity) -> String {
    versioning::entity_snapshot(e.id, &e.entity_type, &e.name, &e.data, e.version)
}

fn load_for_change(ctx: &ReducerContext, id: u64) -> Result<Entity, String> {
    validate::row_id("id", id)?;
    let row = ctx
        .db
        .entity()
        .id()
        .find(id)
        .ok_or_else(|| format!("id: entity {id} does not exist"))?;
    common::require_owner_or_admin(ctx, row.owner, &format!("entity {id}"))?;
    Ok(row)
}

#[reducer]
pub fn create_entity(
    ctx: &ReducerContext,
    entity_type: String,
    name: String,
    data: String,
) -> Result<(), String> {
    validate::type_name("entity_type", &entity_type)?;
    check_fields(&name, &data)?;
    let row = ctx
        .db
        .entity()
        .try_insert(Entity {
            id: 0,
            entity_type,
            name,
            data,
            version: 1,
            owner: ctx.sender,
            created_at: ctx.timestamp,
            updated_at: ctx.timestamp,
        })
        .map_err(|e| format!("entity: {e}"))?;
    let flags = common::feature_flags(ctx);
    common::record_change(
        ctx,
        &flags,
        Target::Entity,
        Change::Create,
        row.id,
        snapshot(&row),
    )
}

/// Replace an entity's name and data (its type is fixed at creation).
#[reducer]
pub fn update_entity(
    ctx: &ReducerContext,
    id: u64,
    name: String,
    data: String,
) -> Result<(), String> {
    check_fields(&name, &data)?;
    let old = load_for_change(ctx, id)?;
    let version = versioning::next_row_version(old.version)?;
    let row = ctx.db.entity().id().update(Entity {
        name,
        data,
        version,
        updated_at: ctx.timestamp,
        ..old
    });
    let flags = common::feature_flags(ctx);
    common::record_change(
        ctx,
        &flags,
        Target::Entity,
        Change::Update,
        id,
        snapshot(&row),
    )
}

/// Delete an entity. If relations still reference it, `cascade` must be true
/// and they are deleted (and versioned) in the same transaction.
#[reducer]
pub fn delete_entity(ctx: &ReducerContext, id: u64, cascade: bool) -> Result<(), String> {
    let row = load_for_change(ctx, id)?;
    let mut attached: Vec<_> = ctx.db.relation().source_id().filter(id).collect();
    attached.extend(
        ctx.db
            .relation()
            .target_id()
            .filter(id)
            .filter(|r| r.source_id != id),
    );
    integrity::check_entity_delete(id, attached.len(), cascade)?;

    let flags = common::feature_flags(ctx);
    for rel in attached {
        ctx.db.relation().id().delete(rel.id);
        let snap = super::relations::snapshot(&rel);
        common::record_change(ctx, &flags, Target::Relation, Change::Delete, rel.id, snap)?;
    }
    ctx.db.entity().id().delete(id);
    common::record_change(
        ctx,
        &flags,
        Target::Entity,
        Change::Delete,
        id,
        snapshot(&row),
    )
}
