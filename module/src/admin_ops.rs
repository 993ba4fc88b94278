//! Parsing of `admin_operation(operation, args)` calls (pure, host-testable).
//!
//! `args` is a JSON object; each operation documents its fields:
//! - `delete_config`          `{"key": "..."}`
//! - `set_config_description` `{"key": "...", "description": "..."}`
//! - `prune_metrics`          `{"keep_seconds": N}`  (N >= 60)
//! - `prune_events`           `{"keep_seconds": N}`  (N >= 3600)
//! - `set_metrics_interval`   `{"seconds": N}`       (5..=86400)

use serde_json::{Map, Value};

use crate::{config_rules, status, validate};

/// Longest accepted `args` document.
pub const MAX_ARGS_BYTES: usize = 4 * 1024;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdminOp {
    DeleteConfig { key: String },
    SetConfigDescription { key: String, description: String },
    PruneMetrics { keep_seconds: u64 },
    PruneEvents { keep_seconds: u64 },
    SetMetricsInterval { seconds: u64 },
}

pub const OPERATIONS: [&str; 5] = [
    "delete_config",
    "set_config_description",
    "prune_metrics",
    "prune_events",
    "set_metrics_interval",
];

impl AdminOp {
    pub fn name(&self) -> &'static str {
        match self {
            AdminOp::DeleteConfig { .. } => "delete_config",
            AdminOp::SetConfigDescription { .. } => "set_config_description",
            AdminOp::PruneMetrics { .. } => "prune_metrics",
            AdminOp::PruneEvents { .. } => "prune_events",
            AdminOp::SetMetricsInterval { .. } => "set_metrics_interval",
        }
    }
}

fn str_arg(map: &Map<String, Value>, name: &str) -> Result<String, String> {
    match map.get(name) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!(
            "args.{name}: must be a string, got {}",
            validate::json_kind(other)
        )),
        None => Err(format!("args.{name}: is required")),
    }
}

fn u64_arg(map: &Map<String, Value>, name: &str) -> Result<u64, String> {
    match map.get(name) {
        Some(v) => v
            .as_u64()
            .ok_or_else(|| format!("args.{name}: must be a non-negative integer")),
        None => Err(format!("args.{name}: is required")),
    }
}

fn config_key_arg(map: &Map<String, Value>) -> Result<String, String> {
    let key = str_arg(map, "key")?;
    validate::config_key("args.key", &key)?;
    if config_rules::READ_ONLY_KEYS.contains(&key.as_str())
        || key == config_rules::MODULE_CONFIG_KEY
    {
        return Err(format!("args.key: {key:?} is managed by the module"));
    }
    Ok(key)
}

fn min_seconds(field: &str, value: u64, min: u64) -> Result<u64, String> {
    if value < min {
        return Err(format!("{field}: must be at least {min}"));
    }
    Ok(value)
}

/// Parse and validate an admin operation.
pub fn parse(operation: &str, args: &str) -> Result<AdminOp, String> {
    if !OPERATIONS.contains(&operation) {
        let shown: String = operation.chars().take(64).collect();
        return Err(format!(
            "operation: unknown operation {shown:?} (known: {})",
            OPERATIONS.join(", ")
        ));
    }
    let map = validate::json_object("args", args, MAX_ARGS_BYTES)?;
    let op = match operation {
        "delete_config" => AdminOp::DeleteConfig {
            key: config_key_arg(&map)?,
        },
        "set_config_description" => {
            let key = config_key_arg(&map)?;
            let description = str_arg(&map, "description")?;
            validate::text(
                "args.description",
                &description,
                validate::MAX_DESCRIPTION_CHARS,
            )?;
            AdminOp::SetConfigDescription { key, description }
        }
        "prune_metrics" => AdminOp::PruneMetrics {
            keep_seconds: min_seconds("args.keep_seconds", u64_arg(&map, "keep_seconds")?, 60)?,
        },
        "prune_events" => AdminOp::PruneEvents {
            keep_seconds: min_seconds("args.keep_seconds", u64_arg(&map, "keep_seconds")?, 3600)?,
        },
        _ => {
            let seconds = u64_arg(&map, "seconds")?;
            status::check_metrics_interval("args.seconds", seconds)?;
            AdminOp::SetMetricsInterval { seconds }
        }
    };
    Ok(op)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_operation() {
        assert_eq!(
            parse("delete_config", r#"{"key":"server_config"}"#).unwrap(),
            AdminOp::DeleteConfig {
                key: "server_config".into()
            }
        );
        assert_eq!(
            parse(
                "set_config_description",
                r#"{"key":"a","description":"Hello"}"#
            )
            .unwrap(),
            AdminOp::SetConfigDescription {
                key: "a".into(),
                description: "Hello".into()
            }
        );
        assert_eq!(
            parse("prune_metrics", r#"{"keep_seconds":3600}"#).unwrap(),
            AdminOp::PruneMetrics { keep_seconds: 3600 }
        );
        assert_eq!(
            parse("prune_events", r#"{"keep_seconds":7200}"#).unwrap(),
            AdminOp::PruneEvents { keep_seconds: 7200 }
        );
        assert_eq!(
            parse("set_metrics_interval", r#"{"seconds":30}"#).unwrap(),
            AdminOp::SetMetricsInterval { seconds: 30 }
        );
        for op in OPERATIONS {
            // Names round-trip.
            if let Ok(p) = parse(
                op,
                r#"{"key":"k","description":"d","keep_seconds":99999,"seconds":60}"#,
            ) {
                assert_eq!(p.name(), op);
            }
        }
    }

    #[test]
    fn rejects_bad_input_naming_the_field() {
        assert!(parse("drop_everything", "{}")
            .unwrap_err()
            .starts_with("operation: unknown operation"));
        assert!(parse("delete_config", "[]")
            .unwrap_err()
            .starts_with("args: must be a JSON object"));
        assert_eq!(
            parse("delete_config", "{}").unwrap_err(),
            "args.key: is required"
        );
        assert!(parse("delete_config", r#"{"key":5}"#)
            .unwrap_err()
            .starts_with("args.key: must be a string"));
        assert!(parse("delete_config", r#"{"key":"start_time"}"#)
            .unwrap_err()
            .contains("managed by the module"));
        assert!(parse("delete_config", r#"{"key":"module_config"}"#).is_err());
        assert!(
            parse("set_config_description", r#"{"key":"a","description":" "}"#)
                .unwrap_err()
                .starts_with("args.description:")
        );
        assert!(parse("prune_metrics", r#"{"keep_seconds":-1}"#)
            .unwrap_err()
            .starts_with("args.keep_seconds:"));
        assert!(parse("prune_metrics", r#"{"keep_seconds":59}"#)
            .unwrap_err()
            .contains("at least 60"));
        assert!(parse("prune_events", r#"{"keep_seconds":60}"#)
            .unwrap_err()
            .contains("at least 3600"));
        assert!(parse("set_metrics_interval", r#"{"seconds":1}"#)
            .unwrap_err()
            .starts_with("args.seconds:"));
    }

    #[test]
    fn long_unknown_operation_is_truncated_in_the_error() {
        let e = parse(&"x".repeat(10_000), "{}").unwrap_err();
        assert!(e.len() < 300, "{}", e.len());
    }
}
