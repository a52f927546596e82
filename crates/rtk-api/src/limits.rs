//! The largest free-text fields the API and the gateway accept (`docs/limits.md`). A longer
//! value is a 400 (or a gateway `error`); the OpenAPI document states the same maxima.

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
/// Breakout rooms opened by one call.
pub const ROOMS_MAX: usize = 50;
/// The longest keep-alive of a meeting's session after its last peer leaves, in seconds.
pub const MAX_KEEP_ALIVE_SECS: i64 = 600;
/// Items per page of a list: at most this many.
pub const MAX_PER_PAGE: u64 = 100;
/// Items per page of a list when `per_page` is not given.
pub const DEFAULT_PER_PAGE: u64 = 20;
/// The highest page number a list accepts.
pub const MAX_PAGE_NO: u64 = 1_000_000_000;
