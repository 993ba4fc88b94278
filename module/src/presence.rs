//! Client connection bookkeeping (pure, host-testable).
//!
//! One `client_connection` row per identity. An identity may hold several
//! connections at once, so the row counts them and reads `connected` while at
//! least one is open.

pub const CONNECTED: &str = "connected";
pub const DISCONNECTED: &str = "disconnected";

/// Open connections after a connect, given the previous count (None = first time).
pub fn after_connect(previous_active: Option<u32>) -> u32 {
    previous_active.unwrap_or(0).saturating_add(1)
}

/// Open connections after a disconnect (never below zero, even for an unknown
/// identity or a duplicate disconnect).
pub fn after_disconnect(previous_active: Option<u32>) -> u32 {
    previous_active.unwrap_or(0).saturating_sub(1)
}

/// Status string for a number of open connections.
pub fn status_for(active: u32) -> &'static str {
    if active > 0 {
        CONNECTED
    } else {
        DISCONNECTED
    }
}

/// Change in the number of connected identities when one identity's open
/// connections go from `before` to `after` (-1, 0 or +1).
pub fn connected_delta(before: u32, after: u32) -> i8 {
    match (before > 0, after > 0) {
        (false, true) => 1,
        (true, false) => -1,
        _ => 0,
    }
}

/// Apply a delta to a connected-identities count, never wrapping.
pub fn apply_delta(count: u64, delta: i8) -> u64 {
    match delta {
        d if d > 0 => count.saturating_add(1),
        d if d < 0 => count.saturating_sub(1),
        _ => count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_disconnect_cycle() {
        let a = after_connect(None);
        assert_eq!((a, status_for(a)), (1, CONNECTED));
        let b = after_connect(Some(a));
        assert_eq!(b, 2);
        let c = after_disconnect(Some(b));
        assert_eq!((c, status_for(c)), (1, CONNECTED));
        let d = after_disconnect(Some(c));
        assert_eq!((d, status_for(d)), (0, DISCONNECTED));
    }

    #[test]
    fn deltas() {
        assert_eq!(connected_delta(0, 1), 1);
        assert_eq!(connected_delta(1, 2), 0);
        assert_eq!(connected_delta(2, 1), 0);
        assert_eq!(connected_delta(1, 0), -1);
        assert_eq!(connected_delta(0, 0), 0);
        assert_eq!(apply_delta(0, -1), 0);
        assert_eq!(apply_delta(3, 1), 4);
        assert_eq!(apply_delta(3, -1), 2);
        assert_eq!(apply_delta(u64::MAX, 1), u64::MAX);
    }

    #[test]
    fn never_underflows_or_overflows() {
        assert_eq!(after_disconnect(None), 0);
        assert_eq!(after_disconnect(Some(0)), 0);
        assert_eq!(after_connect(Some(u32::MAX)), u32::MAX);
    }
}
