//! Feature flags, stored as a JSON object in the `config` row `feature_flags`.
//!
//! Example (also the defaults when the row is absent):
//! `{"enable_state_versioning":true,"enable_audit_log":true,"enable_metrics":true,
//!   "enable_caching":true,"enable_distribution":false}`

use serde_json::Value;

use crate::validate;

/// Config key holding the feature flags.
pub const FEATURE_FLAGS_KEY: &str = "feature_flags";

/// Names of the known flags, in canonical order.
pub const FLAG_NAMES: [&str; 5] = [
    "enable_state_versioning",
    "enable_audit_log",
    "enable_metrics",
    "enable_caching",
    "enable_distribution",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeatureFlags {
    /// Append a `state_version` row for every entity/relation change.
    pub enable_state_versioning: bool,
    /// Append an `event_log` row for every entity/relation change and client connection.
    pub enable_audit_log: bool,
    /// Record rows in `metric` from the scheduled `record_metrics` reducer.
    pub enable_metrics: bool,
    /// Reserved for clients/caches; stored and reported, no module behaviour.
    pub enable_caching: bool,
    /// Reserved; stored and reported, no module behaviour.
    pub enable_distribution: bool,
}

impl Default for FeatureFlags {
    fn default() -> Self {
        Self {
            enable_state_versioning: true,
            enable_audit_log: true,
            enable_metrics: true,
            enable_caching: true,
            enable_distribution: false,
        }
    }
}

impl FeatureFlags {
    fn slot(&mut self, name: &str) -> Option<&mut bool> {
        match name {
            "enable_state_versioning" => Some(&mut self.enable_state_versioning),
            "enable_audit_log" => Some(&mut self.enable_audit_log),
            "enable_metrics" => Some(&mut self.enable_metrics),
            "enable_caching" => Some(&mut self.enable_caching),
            "enable_distribution" => Some(&mut self.enable_distribution),
            _ => None,
        }
    }

    /// Canonical JSON text (all flags, in `FLAG_NAMES` order).
    pub fn to_json(&self) -> String {
        let values = [
            self.enable_state_versioning,
            self.enable_audit_log,
            self.enable_metrics,
            self.enable_caching,
            self.enable_distribution,
        ];
        let fields: Vec<String> = FLAG_NAMES
            .iter()
            .zip(values)
            .map(|(name, value)| format!("\"{name}\":{value}"))
            .collect();
        format!("{{{}}}", fields.join(","))
    }
}

/// Strict parse, used when an admin writes the `feature_flags` row:
/// a JSON object whose keys are known flag names with boolean values.
/// Missing flags take their default value; unknown keys are rejected
/// (a typo such as `enable_metric` would otherwise be silently ignored).
pub fn parse(field: &str, json: &str) -> Result<FeatureFlags, String> {
    let map = validate::json_object(field, json, validate::MAX_CONFIG_VALUE_BYTES)?;
    let mut flags = FeatureFlags::default();
    for (name, value) in &map {
        let slot = flags.slot(name).ok_or_else(|| {
            format!(
                "{field}: unknown feature flag {name:?} (known: {})",
                FLAG_NAMES.join(", ")
            )
        })?;
        match value {
            Value::Bool(b) => *slot = *b,
            other => {
                return Err(format!(
                    "{field}: flag {name:?} must be a boolean, got {}",
                    validate::json_kind(other)
                ))
            }
        }
    }
    Ok(flags)
}

/// Lenient read of the stored row: absent → defaults. A stored value that no
/// longer parses (it is validated on write, so only possible after a manual
/// change) also falls back to the defaults instead of failing every reducer.
pub fn from_stored(value: Option<&str>) -> FeatureFlags {
    value
        .and_then(|v| parse(FEATURE_FLAGS_KEY, v).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_documented_json() {
        let documented = r#"{"enable_state_versioning":true,"enable_audit_log":true,"enable_metrics":true,"enable_caching":true,"enable_distribution":false}"#;
        assert_eq!(parse("value", documented).unwrap(), FeatureFlags::default());
        assert_eq!(FeatureFlags::default().to_json(), documented);
    }

    #[test]
    fn absent_row_gives_defaults() {
        assert_eq!(from_stored(None), FeatureFlags::default());
    }

    #[test]
    fn partial_object_overrides_only_given_flags() {
        let f = parse("value", r#"{"enable_metrics":false}"#).unwrap();
        assert!(!f.enable_metrics);
        assert!(f.enable_state_versioning && f.enable_audit_log && f.enable_caching);
        assert!(!f.enable_distribution);
    }

    #[test]
    fn all_flags_off() {
        let f = parse(
            "value",
            r#"{"enable_state_versioning":false,"enable_audit_log":false,"enable_metrics":false,"enable_caching":false,"enable_distribution":false}"#,
        )
        .unwrap();
        assert!(
            !f.enable_state_versioning
                && !f.enable_audit_log
                && !f.enable_metrics
                && !f.enable_caching
        );
    }

    #[test]
    fn rejects_bad_input_naming_the_field() {
        assert!(parse("value", "[]")
            .unwrap_err()
            .starts_with("value: must be a JSON object"));
        assert!(parse("value", "nope")
            .unwrap_err()
            .starts_with("value: invalid JSON"));
        let e = parse("value", r#"{"enable_metric":true}"#).unwrap_err();
        assert!(e.contains("unknown feature flag \"enable_metric\""), "{e}");
        let e = parse("value", r#"{"enable_metrics":"yes"}"#).unwrap_err();
        assert!(
            e.contains("\"enable_metrics\" must be a boolean, got a string"),
            "{e}"
        );
    }

    #[test]
    fn corrupt_stored_value_falls_back_to_defaults() {
        assert_eq!(from_stored(Some("{not json")), FeatureFlags::default());
        assert!(!from_stored(Some(r#"{"enable_audit_log":false}"#)).enable_audit_log);
    }
}
