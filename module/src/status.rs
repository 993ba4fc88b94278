//! System status and metrics computation (pure, host-testable).

/// Status value of a healthy module.
pub const STATUS_RUNNING: &str = "running";
/// Primary key of the single `system_status` row.
pub const SYSTEM_STATUS_ID: u32 = 0;
/// Default interval of the scheduled `record_metrics` reducer.
pub const DEFAULT_METRICS_INTERVAL_SECS: u64 = 60;
/// Allowed range for the metrics interval (admin_operation `set_metrics_interval`).
pub const METRICS_INTERVAL_RANGE: (u64, u64) = (5, 86_400);
/// Metric rows older than this are pruned by `record_metrics`.
pub const METRIC_RETENTION_SECS: u64 = 86_400;

const MICROS_PER_SEC: i64 = 1_000_000;

/// Counts gathered from the tables.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub entities: u64,
    pub relations: u64,
    pub events: u64,
    pub state_versions: u64,
    pub connected_clients: u64,
}

/// Whole seconds from `start_micros` to `now_micros`; 0 if the clock went backwards.
pub fn uptime_seconds(start_micros: i64, now_micros: i64) -> u64 {
    let diff = now_micros.saturating_sub(start_micros).max(0);
    u64::try_from(diff / MICROS_PER_SEC).unwrap_or(0)
}

/// The `start_time` config value: microseconds since the Unix epoch, decimal.
pub fn format_start_time(micros: i64) -> String {
    micros.to_string()
}

/// Parse the `start_time` config value; None if absent or malformed.
pub fn parse_start_time(value: &str) -> Option<i64> {
    value.trim().parse::<i64>().ok().filter(|m| *m >= 0)
}

/// Metric rows to record for one tick: (name, value).
pub fn metric_samples(counts: &Counts, uptime: u64) -> Vec<(&'static str, f64)> {
    // u64 → f64 is exact up to 2^53, far beyond any realistic count here.
    vec![
        ("entity_count", counts.entities as f64),
        ("relation_count", counts.relations as f64),
        ("event_count", counts.events as f64),
        ("state_version_count", counts.state_versions as f64),
        ("connected_clients", counts.connected_clients as f64),
        ("uptime_seconds", uptime as f64),
    ]
}

/// Rows with a timestamp strictly before the returned value (µs) are expired.
pub fn retention_cutoff(now_micros: i64, keep_seconds: u64) -> i64 {
    let keep = i64::try_from(keep_seconds)
        .unwrap_or(i64::MAX)
        .saturating_mul(MICROS_PER_SEC);
    now_micros.saturating_sub(keep)
}

/// Validate a metrics interval in seconds.
pub fn check_metrics_interval(field: &str, seconds: u64) -> Result<(), String> {
    let (min, max) = METRICS_INTERVAL_RANGE;
    if (min..=max).contains(&seconds) {
        Ok(())
    } else {
        Err(format!("{field}: must be between {min} and {max} seconds"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime() {
        assert_eq!(uptime_seconds(0, 5_999_999), 5);
        assert_eq!(uptime_seconds(1_000_000, 61_000_000), 60);
        assert_eq!(uptime_seconds(10, 0), 0);
        assert_eq!(
            uptime_seconds(i64::MIN, i64::MAX),
            u64::try_from(i64::MAX / 1_000_000).unwrap()
        );
    }

    #[test]
    fn start_time_round_trip() {
        assert_eq!(
            parse_start_time(&format_start_time(1_700_000_000_000_000)),
            Some(1_700_000_000_000_000)
        );
        assert_eq!(parse_start_time("abc"), None);
        assert_eq!(parse_start_time("-5"), None);
    }

    #[test]
    fn samples_cover_all_counts() {
        let c = Counts {
            entities: 3,
            relations: 2,
            events: 9,
            state_versions: 5,
            connected_clients: 1,
        };
        let s = metric_samples(&c, 42);
        assert_eq!(s.len(), 6);
        assert!(s.contains(&("entity_count", 3.0)));
        assert!(s.contains(&("uptime_seconds", 42.0)));
    }

    #[test]
    fn cutoff() {
        assert_eq!(retention_cutoff(100_000_000, 60), 40_000_000);
        assert_eq!(retention_cutoff(0, u64::MAX), -i64::MAX);
    }

    #[test]
    fn interval_bounds() {
        assert!(check_metrics_interval("seconds", 60).is_ok());
        assert!(check_metrics_interval("seconds", 4)
            .unwrap_err()
            .starts_with("seconds:"));
        assert!(check_metrics_interval("seconds", 86_401).is_err());
    }
}
