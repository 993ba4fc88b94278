//! Input validation shared by all reducers.
//!
//! Pure functions only: nothing here touches `ReducerContext`, so every rule is
//! unit-tested on the host. Each error names the offending field so a client
//! (HTTP 530 body, SDK error callback) can tell what to fix.

use serde_json::{Map, Value};

/// Maximum length (bytes) of a JSON `data` payload on entities, relations and events.
pub const MAX_DATA_BYTES: usize = 64 * 1024;
/// Maximum length (bytes) of a config value.
pub const MAX_CONFIG_VALUE_BYTES: usize = 16 * 1024;
/// Maximum length (bytes) of a config key.
pub const MAX_KEY_LEN: usize = 64;
/// Maximum length (bytes) of an entity or relation type.
pub const MAX_TYPE_LEN: usize = 64;
/// Maximum length (characters) of an entity name.
pub const MAX_NAME_CHARS: usize = 256;
/// Maximum length (characters) of a config description.
pub const MAX_DESCRIPTION_CHARS: usize = 512;

/// A config key: 1..=64 bytes of `[a-z0-9_.-]`, starting with a lowercase letter.
pub fn config_key(field: &str, key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err(format!("{field}: must not be empty"));
    }
    if key.len() > MAX_KEY_LEN {
        return Err(format!(
            "{field}: must be at most {MAX_KEY_LEN} bytes (got {})",
            key.len()
        ));
    }
    if !key.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(format!("{field}: must start with a lowercase ASCII letter"));
    }
    if let Some(bad) = key
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-')))
    {
        return Err(format!(
            "{field}: invalid character {bad:?} (allowed: a-z 0-9 _ . -)"
        ));
    }
    Ok(())
}

/// An entity or relation type: 1..=64 bytes of `[A-Za-z0-9_.:-]`, starting with a letter.
pub fn type_name(field: &str, value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err(format!("{field}: must not be empty"));
    }
    if value.len() > MAX_TYPE_LEN {
        return Err(format!(
            "{field}: must be at most {MAX_TYPE_LEN} bytes (got {})",
            value.len()
        ));
    }
    if !value.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(format!("{field}: must start with an ASCII letter"));
    }
    if let Some(bad) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-')))
    {
        return Err(format!(
            "{field}: invalid character {bad:?} (allowed: A-Z a-z 0-9 _ . : -)"
        ));
    }
    Ok(())
}

/// Human-readable text: non-empty, bounded, no control characters,
/// no leading or trailing whitespace.
pub fn text(field: &str, value: &str, max_chars: usize) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("{field}: must not be empty or blank"));
    }
    let chars = value.chars().count();
    if chars > max_chars {
        return Err(format!(
            "{field}: must be at most {max_chars} characters (got {chars})"
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("{field}: must not contain control characters"));
    }
    if value.trim() != value {
        return Err(format!(
            "{field}: must not have leading or trailing whitespace"
        ));
    }
    Ok(())
}

/// A row id produced by an auto-increment column (never 0).
pub fn row_id(field: &str, id: u64) -> Result<(), String> {
    if id == 0 {
        return Err(format!("{field}: must be a positive id"));
    }
    Ok(())
}

/// A JSON document that must be an object, at most `max_bytes` long.
/// Returns the parsed object.
pub fn json_object(
    field: &str,
    value: &str,
    max_bytes: usize,
) -> Result<Map<String, Value>, String> {
    if value.len() > max_bytes {
        return Err(format!(
            "{field}: must be at most {max_bytes} bytes (got {})",
            value.len()
        ));
    }
    match serde_json::from_str::<Value>(value) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(format!(
            "{field}: must be a JSON object, got {}",
            json_kind(&other)
        )),
        Err(e) => Err(format!("{field}: invalid JSON: {e}")),
    }
}

/// Name of a JSON value's kind, for error messages.
pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// An identity as hex: 64 hex digits, optionally prefixed with `0x`.
/// Returns the 64 lowercase hex digits.
pub fn identity_hex(field: &str, value: &str) -> Result<String, String> {
    let digits = value.strip_prefix("0x").unwrap_or(value);
    if digits.len() != 64 {
        return Err(format!(
            "{field}: must be 64 hex digits (optionally 0x-prefixed), got {} characters",
            digits.len()
        ));
    }
    if !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("{field}: must contain only hex digits"));
    }
    Ok(digits.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_key_rules() {
        assert!(config_key("key", "feature_flags").is_ok());
        assert!(config_key("key", "a.b-c_1").is_ok());
        assert_eq!(config_key("key", "").unwrap_err(), "key: must not be empty");
        assert!(config_key("key", "Upper").unwrap_err().starts_with("key:"));
        assert!(config_key("key", "1abc").is_err());
        assert!(config_key("key", "has space").unwrap_err().contains("' '"));
        assert!(config_key("key", &"a".repeat(65))
            .unwrap_err()
            .contains("at most 64"));
        assert!(config_key("key", &"a".repeat(64)).is_ok());
    }

    #[test]
    fn type_name_rules() {
        assert!(type_name("entity_type", "Person").is_ok());
        assert!(type_name("entity_type", "ns:thing-v2.x_y").is_ok());
        assert!(type_name("entity_type", "")
            .unwrap_err()
            .starts_with("entity_type:"));
        assert!(type_name("relation_type", "_x").is_err());
        assert!(type_name("relation_type", "a/b").is_err());
        assert!(type_name("relation_type", "é").is_err());
    }

    #[test]
    fn text_rules() {
        assert!(text("name", "Alice", 10).is_ok());
        assert!(text("name", "Zoë 🙂", 10).is_ok());
        assert!(text("name", "   ", 10).unwrap_err().contains("blank"));
        assert!(text("name", " a", 10).unwrap_err().contains("whitespace"));
        assert!(text("name", "a\nb", 10).unwrap_err().contains("control"));
        assert!(text("name", "abcdefghijk", 10)
            .unwrap_err()
            .contains("at most 10"));
        // Character count, not bytes.
        assert!(text("name", &"é".repeat(10), 10).is_ok());
    }

    #[test]
    fn row_id_rules() {
        assert!(row_id("id", 1).is_ok());
        assert_eq!(
            row_id("source_id", 0).unwrap_err(),
            "source_id: must be a positive id"
        );
    }

    #[test]
    fn json_object_rules() {
        assert_eq!(json_object("data", "{\"a\":1}", 100).unwrap().len(), 1);
        assert!(json_object("data", "{}", 100).unwrap().is_empty());
        assert!(json_object("data", "[1]", 100)
            .unwrap_err()
            .contains("an array"));
        assert!(json_object("data", "\"x\"", 100)
            .unwrap_err()
            .contains("a string"));
        assert!(json_object("data", "null", 100)
            .unwrap_err()
            .contains("null"));
        assert!(json_object("data", "{", 100)
            .unwrap_err()
            .starts_with("data: invalid JSON"));
        assert!(json_object("data", "", 100)
            .unwrap_err()
            .starts_with("data: invalid JSON"));
        assert!(json_object("data", "{\"a\":\"0123456789\"}", 10)
            .unwrap_err()
            .contains("at most 10 bytes"));
    }

    #[test]
    fn deeply_nested_json_is_an_error_not_a_panic() {
        let deep = format!("{}{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
        assert!(json_object("data", &deep, usize::MAX).is_err());
    }

    #[test]
    fn identity_hex_rules() {
        let hex = "AB".repeat(32);
        assert_eq!(identity_hex("identity", &hex).unwrap(), "ab".repeat(32));
        assert_eq!(
            identity_hex("identity", &format!("0x{hex}")).unwrap(),
            "ab".repeat(32)
        );
        assert!(identity_hex("identity", "abc")
            .unwrap_err()
            .contains("64 hex digits"));
        assert!(identity_hex("identity", &"zz".repeat(32))
            .unwrap_err()
            .contains("hex digits"));
    }
}
