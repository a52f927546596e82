//! The largest free-text fields the API and the gateway accept (`docs/limits.md`). A longer
//! value is a 400 (or a gateway `error`), never stored: everything stored is later sent to
//! every peer of a session, so one oversized name would cost every joiner.

use serde_json::Value;

use crate::error::FieldErrors;

/// Names and titles: app, preset, meeting and breakout-room titles, participant display names,
/// `custom_participant_id`, and the preset a participant names.
pub const NAME_CHARS: usize = 256;
/// Picture URLs (browsers and CDNs handle 2,048 everywhere).
pub const URL_CHARS: usize = 2048;
/// A poll's question.
pub const POLL_QUESTION_CHARS: usize = 1000;
/// One poll option.
pub const POLL_OPTION_CHARS: usize = 256;
/// Options in one poll.
pub const POLL_OPTIONS_MAX: usize = 50;
/// One chat message.
pub const CHAT_CHARS: usize = 4000;

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
