//! The largest free-text fields the API and the gateway accept (`docs/limits.md`). A longer
//! value is a 400 (or a gateway `error`), never stored: everything stored is later sent to
//! every peer of a session, so one oversized name would cost every joiner. The maxima are
//! defined in `rtk_api::limits`, so the OpenAPI document states the same numbers.

use serde_json::Value;

use crate::error::FieldErrors;

pub use rtk_api::limits::{
    CHAT_CHARS, NAME_CHARS, POLL_OPTIONS_MAX, POLL_OPTION_CHARS, POLL_QUESTION_CHARS, ROOMS_MAX, URL_CHARS,
};

/// An error for `body[key]` if it is a string longer than `max` characters.
pub fn text(body: &Value, key: &str, max: usize, errors: &mut FieldErrors) {
    text_at(body.get(key), key, max, errors)
}

/// An error for `v` (named `path`) if it is a string longer than `max` characters.
pub fn text_at(v: Option<&Value>, path: &str, max: usize, errors: &mut FieldErrors) {
    if let Some(s) = v.and_then(Value::as_str) {
        if s.chars().count() > max {
            errors.push_with(|| format!("\"{path}\" must be at most {max} characters"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts_characters_not_bytes() {
        let mut e = FieldErrors::new();
        text(&json!({"name": "é".repeat(256)}), "name", 256, &mut e);
        assert!(e.is_empty());
        text(&json!({"name": "é".repeat(257)}), "name", 256, &mut e);
        assert_eq!(e.listed(), ["\"name\" must be at most 256 characters".to_string()]);
        text(&json!({"name": 5}), "name", 1, &mut e);
        assert_eq!(e.len(), 1, "only strings are measured; types are checked elsewhere");
    }
}
