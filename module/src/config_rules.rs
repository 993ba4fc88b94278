//! Rules for rows of the public `config` table (pure, host-testable).
//!
//! The `config` table is readable by every client, so it must never hold a
//! secret: keys and JSON object keys that look like credentials are refused.

use serde_json::{Map, Value};

use crate::{flags, validate};

pub const MODULE_CONFIG_KEY: &str = "module_config";
pub const SERVER_CONFIG_KEY: &str = "server_config";
pub const START_TIME_KEY: &str = "start_time";

/// Keys written by the module itself; `set_config` refuses them.
pub const READ_ONLY_KEYS: [&str; 1] = [START_TIME_KEY];

/// Fragments that mark a key as a credential (compared after lowercasing and
/// removing `_`, `-`, `.`, so `api_key`, `API-Key`, `apiKey` all match).
const SECRET_MARKERS: [&str; 9] = [
    "secret",
    "password",
    "passwd",
    "passphrase",
    "token",
    "privatekey",
    "apikey",
    "accesskey",
    "credential",
];

/// Does this key name look like it would hold a secret?
pub fn looks_secret(name: &str) -> bool {
    let norm: String = name
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | '.' | ' '))
        .flat_map(char::to_lowercase)
        .collect();
    SECRET_MARKERS.iter().any(|m| norm.contains(m))
}

/// First secret-looking object key anywhere in a JSON document (dotted path).
fn find_secret_key(value: &Value, path: &str) -> Option<String> {
    match value {
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let here = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            if looks_secret(k) {
                Some(here)
            } else {
                find_secret_key(v, &here)
            }
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| find_secret_key(v, &format!("{path}[{i}]"))),
        _ => None,
    }
}

fn check_int(map: &Map<String, Value>, name: &str, min: u64, max: u64) -> Result<(), String> {
    match map.get(name) {
        None => Ok(()),
        Some(v) => match v.as_u64() {
            Some(n) if (min..=max).contains(&n) => Ok(()),
            _ => Err(format!(
                "value: {SERVER_CONFIG_KEY}.{name} must be an integer in {min}..={max}"
            )),
        },
    }
}

/// Type-check the known fields of `server_config`; other fields are allowed.
fn check_server_config(map: &Map<String, Value>) -> Result<(), String> {
    check_int(map, "max_connections", 1, 1_000_000)?;
    check_int(map, "timeout_ms", 1, 3_600_000)?;
    check_int(map, "cache_size_mb", 0, 1_048_576)?;
    match map.get("auth_required") {
        None | Some(Value::Bool(_)) => Ok(()),
        Some(_) => Err(format!(
            "value: {SERVER_CONFIG_KEY}.auth_required must be a boolean"
        )),
    }
}

/// Validate a `set_config(key, value)` call. Errors name the field (`key` or `value`).
pub fn check_set(key: &str, value: &str) -> Result<(), String> {
    validate::config_key("key", key)?;
    if READ_ONLY_KEYS.contains(&key) {
        return Err(format!(
            "key: {key:?} is managed by the module and cannot be set"
        ));
    }
    if looks_secret(key) {
        return Err(format!(
            "key: {key:?} looks like a secret; the config table is public and must not hold secrets"
        ));
    }
    if value.len() > validate::MAX_CONFIG_VALUE_BYTES {
        return Err(format!(
            "value: must be at most {} bytes (got {})",
            validate::MAX_CONFIG_VALUE_BYTES,
            value.len()
        ));
    }
    if value.contains("-----BEGIN") {
        return Err(
            "value: looks like a PEM key or certificate; the config table is public".into(),
        );
    }
    match key {
        flags::FEATURE_FLAGS_KEY => {
            flags::parse("value", value)?;
        }
        SERVER_CONFIG_KEY => check_server_config(&validate::json_object(
            "value",
            value,
            validate::MAX_CONFIG_VALUE_BYTES,
        )?)?,
        MODULE_CONFIG_KEY => {
            validate::json_object("value", value, validate::MAX_CONFIG_VALUE_BYTES)?;
        }
        _ => {}
    }
    // Any JSON value (for any key) is scanned for credential-looking fields.
    if let Ok(doc) = serde_json::from_str::<Value>(value) {
        if let Some(path) = find_secret_key(&doc, "") {
            return Err(format!(
                "value: field {path:?} looks like a secret; the config table is public and must not hold secrets"
            ));
        }
    }
    Ok(())
}

/// Description stored when a well-known key is first created through `set_config`.
pub fn default_description(key: &str) -> Option<&'static str> {
    match key {
        flags::FEATURE_FLAGS_KEY => Some("Feature flags (JSON object of booleans)"),
        SERVER_CONFIG_KEY => Some("Server configuration (JSON object) set by the deploy pipeline"),
        MODULE_CONFIG_KEY => Some("Default module configuration"),
        _ => None,
    }
}

/// JSON text of the default `module_config` row written by `init`.
pub fn default_module_config(version: &str) -> String {
    serde_json::json!({
        "name": "inner-universe",
        "version": version,
        "cache_size_mb": 256,
        "log_level": "info",
        "features": ["enable_state_versioning", "enable_audit_log"],
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLAGS: &str = r#"{"enable_state_versioning":true,"enable_audit_log":true,"enable_metrics":true,"enable_caching":true,"enable_distribution":false}"#;
    const SERVER: &str =
        r#"{"max_connections":100,"timeout_ms":30000,"cache_size_mb":512,"auth_required":true}"#;

    #[test]
    fn deploy_pipeline_values_are_accepted() {
        check_set("feature_flags", FLAGS).unwrap();
        check_set("server_config", SERVER).unwrap();
        check_set("server_config", r#"{"region":"eu","max_connections":1}"#).unwrap();
    }

    #[test]
    fn pipeline_keys_must_hold_json_objects() {
        assert!(check_set("feature_flags", "true")
            .unwrap_err()
            .starts_with("value: must be a JSON object"));
        assert!(check_set("server_config", "[1,2]")
            .unwrap_err()
            .starts_with("value: must be a JSON object"));
        assert!(check_set("server_config", "{oops")
            .unwrap_err()
            .starts_with("value: invalid JSON"));
        assert!(check_set("module_config", "\"x\"")
            .unwrap_err()
            .starts_with("value: must be a JSON object"));
    }

    #[test]
    fn server_config_known_fields_are_type_checked() {
        let e = check_set("server_config", r#"{"max_connections":0}"#).unwrap_err();
        assert!(e.contains("server_config.max_connections"), "{e}");
        assert!(check_set("server_config", r#"{"timeout_ms":"30s"}"#).is_err());
        assert!(check_set("server_config", r#"{"cache_size_mb":-1}"#).is_err());
        assert!(check_set("server_config", r#"{"auth_required":"yes"}"#).is_err());
    }

    #[test]
    fn plain_keys_accept_plain_values() {
        check_set("greeting", "hello").unwrap();
        check_set("empty", "").unwrap();
    }

    #[test]
    fn key_is_validated() {
        assert!(check_set("", "x").unwrap_err().starts_with("key:"));
        assert!(check_set("Bad Key", "x").unwrap_err().starts_with("key:"));
        assert!(check_set("start_time", "1")
            .unwrap_err()
            .contains("managed by the module"));
    }

    #[test]
    fn secrets_are_refused() {
        for key in [
            "api_key",
            "db_password",
            "jwt_secret",
            "auth-token",
            "aws_access_key_id",
        ] {
            let e = check_set(key, "x").unwrap_err();
            assert!(e.starts_with("key:") && e.contains("secret"), "{key}: {e}");
        }
        let e = check_set("server_config", r#"{"db":{"password":"hunter2"}}"#).unwrap_err();
        assert!(e.contains("\"db.password\""), "{e}");
        let e = check_set("other", r#"[{"apiKey":"x"}]"#).unwrap_err();
        assert!(e.contains("[0].apiKey"), "{e}");
        assert!(check_set("other", "-----BEGIN PRIVATE KEY-----")
            .unwrap_err()
            .starts_with("value:"));
        // Not secrets:
        assert!(!looks_secret("auth_required"));
        assert!(!looks_secret("max_connections"));
    }

    #[test]
    fn value_size_is_bounded() {
        let big = "x".repeat(validate::MAX_CONFIG_VALUE_BYTES + 1);
        assert!(check_set("note", &big)
            .unwrap_err()
            .starts_with("value: must be at most"));
    }

    #[test]
    fn default_module_config_is_an_object() {
        let v: Value = serde_json::from_str(&default_module_config("0.1.0")).unwrap();
        assert_eq!(v["name"], "inner-universe");
        assert_eq!(v["version"], "0.1.0");
        check_set(MODULE_CONFIG_KEY, &default_module_config("0.1.0")).unwrap();
    }
}
