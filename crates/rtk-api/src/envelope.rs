//! The response envelope shared by every endpoint.
//!
//! Success: `{"success": true, "data": …}` plus `paging` on lists.
//! Error: `{"success": false, "error": {"code", "message"}, "errors": [{"code", "message"}]}` —
//! `error` is the RealtimeKit/Dyte shape, `errors[]` the Cloudflare v4 shape, so readers of
//! either work.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A successful response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Envelope<T> {
    pub success: bool,
    pub data: T,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paging: Option<Paging>,
}

impl<T> Envelope<T> {
    pub fn ok(data: T) -> Self {
        Self { success: true, data, paging: None }
    }
    pub fn page(data: T, paging: Paging) -> Self {
        Self { success: true, data, paging: Some(paging) }
    }
}

/// Paging information on list responses. Offsets are 1-based positions of the first and
/// last item of the page in the whole result (both 0 when the page is empty).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Paging {
    #[serde(default, deserialize_with = "crate::lenient::count")]
    pub total_count: u64,
    #[serde(default, deserialize_with = "crate::lenient::count")]
    pub start_offset: u64,
    #[serde(default, deserialize_with = "crate::lenient::count")]
    pub end_offset: u64,
}

impl Paging {
    /// Paging for page `page_no` (1-based) of `per_page` items holding `len` items out of `total`.
    pub fn new(total: u64, page_no: u64, per_page: u64, len: usize) -> Self {
        if len == 0 {
            return Self { total_count: total, start_offset: 0, end_offset: 0 };
        }
        let start = (page_no - 1) * per_page + 1;
        Self { total_count: total, start_offset: start, end_offset: start + len as u64 - 1 }
    }
}

/// One error item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorItem {
    /// The HTTP status code.
    pub code: u16,
    pub message: String,
}

/// The error envelope.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorEnvelope {
    pub success: bool,
    pub error: ErrorItem,
    pub errors: Vec<ErrorItem>,
}

impl ErrorEnvelope {
    /// An envelope listing every message in `errors`; `error.message` is the first message
    /// alone, or a short summary of it and how many follow (the list is never repeated).
    pub fn new(code: u16, messages: Vec<String>) -> Self {
        Self::with_omitted(code, messages, 0)
    }

    /// Like [`ErrorEnvelope::new`] for a list that was cut short: `omitted` more errors were
    /// found but not listed; `errors[]` ends with one "and N more errors" item for them.
    pub fn with_omitted(code: u16, messages: Vec<String>, omitted: usize) -> Self {
        let total = messages.len() + omitted;
        let message = match messages.first() {
            None => String::new(),
            Some(first) if total == 1 => first.clone(),
            Some(first) => {
                let more = total - 1;
                let s = if more == 1 { "" } else { "s" };
                format!("{first} (and {more} more error{s}, listed in \"errors\")")
            }
        };
        let mut errors: Vec<ErrorItem> =
            messages.into_iter().map(|message| ErrorItem { code, message }).collect();
        if omitted > 0 {
            let s = if omitted == 1 { "" } else { "s" };
            errors.push(ErrorItem { code, message: format!("and {omitted} more error{s}") });
        }
        Self { success: false, error: ErrorItem { code, message }, errors }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_offsets() {
        assert_eq!(Paging::new(45, 1, 20, 20), Paging { total_count: 45, start_offset: 1, end_offset: 20 });
        assert_eq!(Paging::new(45, 3, 20, 5), Paging { total_count: 45, start_offset: 41, end_offset: 45 });
        assert_eq!(Paging::new(45, 4, 20, 0), Paging { total_count: 45, start_offset: 0, end_offset: 0 });
    }

    #[test]
    fn error_envelope_has_both_shapes() {
        let e = ErrorEnvelope::new(404, vec!["No app found".into()]);
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["success"], false);
        assert_eq!(v["error"]["code"], 404);
        assert_eq!(v["errors"][0]["message"], "No app found");
        assert_eq!(v["error"]["message"], "No app found");
    }

    #[test]
    fn error_message_summarises_and_never_repeats_the_list() {
        let e = ErrorEnvelope::with_omitted(400, vec!["a bad".into(), "b bad".into()], 7);
        assert_eq!(e.error.message, "a bad (and 8 more errors, listed in \"errors\")");
        let listed: Vec<_> = e.errors.iter().map(|i| i.message.as_str()).collect();
        assert_eq!(listed, ["a bad", "b bad", "and 7 more errors"]);
    }
}
