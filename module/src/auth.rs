//! Authorization decisions (pure, host-testable).
//!
//! The reducers look facts up in the database (is the sender an admin? who owns
//! the row? how many admins are there?) and pass them here; these functions only
//! decide, so every rule is covered by unit tests.

/// Only admins may run `action`.
pub fn require_admin(sender_is_admin: bool, action: &str) -> Result<(), String> {
    if sender_is_admin {
        Ok(())
    } else {
        Err(format!(
            "Unauthorized: admin privileges required for {action}"
        ))
    }
}

/// The owner of a row, or an admin, may change it.
pub fn require_owner_or_admin(
    sender_is_owner: bool,
    sender_is_admin: bool,
    what: &str,
) -> Result<(), String> {
    if sender_is_owner || sender_is_admin {
        Ok(())
    } else {
        Err(format!(
            "Unauthorized: only the owner of {what} or an admin may change it"
        ))
    }
}

/// Granting admin to an identity that already is one is reported, not ignored.
pub fn check_grant(target_is_admin: bool) -> Result<(), String> {
    if target_is_admin {
        Err("identity: is already an admin".into())
    } else {
        Ok(())
    }
}

/// Revoking must leave at least one admin behind.
pub fn check_revoke(target_is_admin: bool, admin_count: u64) -> Result<(), String> {
    if !target_is_admin {
        return Err("identity: is not an admin".into());
    }
    if admin_count <= 1 {
        return Err("identity: cannot revoke the last admin".into());
    }
    Ok(())
}

/// Scheduled reducers may only be run by the scheduler (sender = module identity).
pub fn require_scheduler(sender_is_module: bool, reducer: &str) -> Result<(), String> {
    if sender_is_module {
        Ok(())
    } else {
        Err(format!(
            "Unauthorized: {reducer} may only be invoked by the scheduler"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_gate() {
        assert!(require_admin(true, "set_config").is_ok());
        let e = require_admin(false, "set_config").unwrap_err();
        assert_eq!(e, "Unauthorized: admin privileges required for set_config");
    }

    #[test]
    fn owner_or_admin_gate() {
        assert!(require_owner_or_admin(true, false, "entity 1").is_ok());
        assert!(require_owner_or_admin(false, true, "entity 1").is_ok());
        assert!(require_owner_or_admin(false, false, "entity 1")
            .unwrap_err()
            .contains("entity 1"));
    }

    #[test]
    fn grant_rules() {
        assert!(check_grant(false).is_ok());
        assert!(check_grant(true).unwrap_err().starts_with("identity:"));
    }

    #[test]
    fn last_admin_cannot_be_revoked() {
        assert!(check_revoke(true, 2).is_ok());
        assert_eq!(
            check_revoke(true, 1).unwrap_err(),
            "identity: cannot revoke the last admin"
        );
        assert!(check_revoke(true, 0).is_err());
        assert_eq!(
            check_revoke(false, 5).unwrap_err(),
            "identity: is not an admin"
        );
    }

    #[test]
    fn scheduler_gate() {
        assert!(require_scheduler(true, "record_metrics").is_ok());
        assert!(require_scheduler(false, "record_metrics")
            .unwrap_err()
            .contains("scheduler"));
    }
}
