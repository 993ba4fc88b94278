//! Referential-integrity decisions for relations (pure, host-testable).

/// A relation may only connect existing entities.
pub fn check_endpoints(
    source_exists: bool,
    target_exists: bool,
    source_id: u64,
    target_id: u64,
) -> Result<(), String> {
    if !source_exists {
        return Err(format!("source_id: entity {source_id} does not exist"));
    }
    if !target_exists {
        return Err(format!("target_id: entity {target_id} does not exist"));
    }
    Ok(())
}

/// The same (source, target, type) edge may exist only once.
pub fn check_not_duplicate(duplicate_id: Option<u64>) -> Result<(), String> {
    match duplicate_id {
        Some(id) => Err(format!(
            "relation_type: the same relation already exists (relation {id})"
        )),
        None => Ok(()),
    }
}

/// Deleting an entity that still has relations requires `cascade = true`
/// (which deletes those relations in the same transaction).
pub fn check_entity_delete(
    entity_id: u64,
    attached_relations: usize,
    cascade: bool,
) -> Result<(), String> {
    if attached_relations > 0 && !cascade {
        return Err(format!(
            "cascade: entity {entity_id} still has {attached_relations} relation(s); \
             delete them first or pass cascade = true"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_must_exist() {
        assert!(check_endpoints(true, true, 1, 2).is_ok());
        assert_eq!(
            check_endpoints(false, true, 1, 2).unwrap_err(),
            "source_id: entity 1 does not exist"
        );
        assert_eq!(
            check_endpoints(true, false, 1, 2).unwrap_err(),
            "target_id: entity 2 does not exist"
        );
    }

    #[test]
    fn duplicates_are_refused() {
        assert!(check_not_duplicate(None).is_ok());
        assert!(check_not_duplicate(Some(4))
            .unwrap_err()
            .contains("relation 4"));
    }

    #[test]
    fn delete_with_relations_needs_cascade() {
        assert!(check_entity_delete(1, 0, false).is_ok());
        assert!(check_entity_delete(1, 3, true).is_ok());
        let e = check_entity_delete(1, 3, false).unwrap_err();
        assert!(
            e.starts_with("cascade:") && e.contains("3 relation(s)"),
            "{e}"
        );
    }
}
