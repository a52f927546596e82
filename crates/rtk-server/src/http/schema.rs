//! Type validation of the deep JSON documents the API stores as given (preset documents,
//! a meeting's `ai_config` and `recording_config`), with every error named by its path.
//!
//! Unknown keys are kept: the document is returned as stored, so a newer SDK's fields survive.

use serde_json::Value;

use crate::error::FieldErrors;

pub enum S {
    Str,
    /// Any JSON number.
    Num,
    /// A whole number that JSON readers hold exactly (|n| ≤ 2^53 − 1).
    Int,
    /// A whole number from `min` to `max` (`2.0` counts as whole: Python SDKs send floats).
    Whole(i64, i64),
    /// A number (fractions allowed) from `min` to `max`.
    Real(f64, f64),
    Bool,
    Any,
    Enum(&'static [&'static str]),
    Obj(&'static [F]),
    Arr(&'static S),
    Map(&'static S),
    /// `null` or the inner schema.
    Null(&'static S),
}

/// A field: name, required (on create), schema.
pub struct F(pub &'static str, pub bool, pub S);

/// The largest count a document may hold: what a signed 32-bit integer holds, as the
/// hosted service's models store them (the SDKs document no smaller bound).
pub const MAX_COUNT: i64 = i32::MAX as i64;
/// A count: a non-negative whole number.
pub const COUNT: S = S::Whole(0, MAX_COUNT);
/// A non-negative quantity that may be fractional (a frame rate, a spacing).
pub const AMOUNT: S = S::Real(0.0, MAX_COUNT as f64);

const MAX_SAFE_INT: f64 = 9_007_199_254_740_991.0;

/// Validates `v` against `s`. With `partial`, required fields may be absent (PATCH bodies).
/// Once `errors` is full, further errors are only counted, and no path is built for them.
pub fn validate(v: &Value, s: &S, path: &str, partial: bool, errors: &mut FieldErrors) {
    let here = if path.is_empty() { "body" } else { path };
    let bad = |errors: &mut FieldErrors, what: &str| {
        errors.push_with(|| format!("\"{here}\" must be {what}"));
    };
    // Child paths are only needed while errors are still listed.
    let child =
        |errors: &FieldErrors, f: &dyn Fn() -> String| if errors.is_full() { String::new() } else { f() };
    match s {
        S::Any => {}
        S::Str => {
            if !v.is_string() {
                bad(errors, "a string")
            }
        }
        S::Num => {
            if !v.is_number() {
                bad(errors, "a number")
            }
        }
        S::Int => {
            if !v.as_f64().is_some_and(|f| f.fract() == 0.0 && f.abs() <= MAX_SAFE_INT) {
                bad(errors, "an integer")
            }
        }
        S::Whole(min, max) => match v.as_f64() {
            None => bad(errors, "a number"),
            Some(f) if f.fract() != 0.0 || f < *min as f64 || f > *max as f64 => {
                errors.push_with(|| format!("\"{here}\" must be a whole number from {min} to {max}"))
            }
            Some(_) => {}
        },
        S::Real(min, max) => match v.as_f64() {
            None => bad(errors, "a number"),
            Some(f) if !(*min..=*max).contains(&f) => {
                errors.push_with(|| format!("\"{here}\" must be a number from {min} to {max}"))
            }
            Some(_) => {}
        },
        S::Bool => {
            if !v.is_boolean() {
                bad(errors, "true or false")
            }
        }
        S::Enum(allowed) => match v.as_str() {
            Some(x) if allowed.contains(&x) => {}
            _ => bad(errors, &format!("one of {}", allowed.join(", "))),
        },
        S::Null(inner) => {
            if !v.is_null() {
                validate(v, inner, path, partial, errors)
            }
        }
        S::Arr(inner) => match v.as_array() {
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    let p = child(errors, &|| format!("{path}[{i}]"));
                    validate(item, inner, &p, partial, errors);
                }
            }
            None => bad(errors, "an array"),
        },
        S::Map(inner) => match v.as_object() {
            Some(m) => {
                for (k, item) in m {
                    let p = child(errors, &|| join(path, k));
                    validate(item, inner, &p, partial, errors);
                }
            }
            None => bad(errors, "an object"),
        },
        S::Obj(fields) => match v.as_object() {
            Some(m) => {
                for F(name, required, fs) in fields.iter() {
                    match m.get(*name) {
                        Some(item) => {
                            let p = child(errors, &|| join(path, name));
                            validate(item, fs, &p, partial, errors)
                        }
                        None if *required && !partial => {
                            errors.push_with(|| format!("\"{}\" is required", join(path, name)))
                        }
                        None => {}
                    }
                }
            }
            None => bad(errors, "an object"),
        },
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The errors of `v` against `s` (empty when valid; the first few listed, the rest counted).
pub fn errors(v: &Value, s: &S, partial: bool) -> FieldErrors {
    let mut out = FieldErrors::new();
    validate(v, s, "", partial, &mut out);
    out
}

/// Merges `patch` into `base`: objects key by key (recursively), anything else replaced.
pub fn merge(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, pv) in p {
                match b.get_mut(k) {
                    Some(bv) if bv.is_object() && pv.is_object() => merge(bv, pv),
                    _ => {
                        b.insert(k.clone(), pv.clone());
                    }
                }
            }
        }
        (b, p) => *b = p.clone(),
    }
}

const QUALITY: S = S::Enum(&["hd", "vga", "qvga", "fhd", "uhd"]);
const PRODUCE: S = S::Enum(&["ALLOWED", "NOT_ALLOWED", "CAN_REQUEST"]);

/// A preset document: `name`, `config`, `permissions`, `ui` (as the official SDKs send it).
pub const PRESET: S = S::Obj(&[
    F("name", true, S::Str),
    F(
        "config",
        true,
        S::Obj(&[
            F("max_screenshare_count", true, COUNT),
            F("max_video_streams", true, S::Obj(&[F("desktop", true, COUNT), F("mobile", true, COUNT)])),
            F(
                "media",
                true,
                S::Obj(&[
                    F(
                        "screenshare",
                        true,
                        S::Obj(&[F("frame_rate", true, AMOUNT), F("quality", true, QUALITY)]),
                    ),
                    F(
                        "video",
                        true,
                        S::Obj(&[
                            F("frame_rate", true, AMOUNT),
                            F("quality", true, QUALITY),
                            F("simulcast", false, S::Bool),
                        ]),
                    ),
                    F(
                        "audio",
                        false,
                        S::Obj(&[
                            F("enable_high_bitrate", false, S::Bool),
                            F("enable_stereo", false, S::Bool),
                        ]),
                    ),
                ]),
            ),
            F("view_type", true, S::Enum(&["GROUP_CALL", "WEBINAR", "AUDIO_ROOM", "LIVESTREAM"])),
            F("livestream_viewer_qualities", false, S::Null(&S::Arr(&COUNT))),
        ]),
    ),
    // Optional on create in the seed-era SDK (5.0.0), required by current ones.
    F(
        "permissions",
        false,
        S::Obj(&[
            F("accept_waiting_requests", true, S::Bool),
            F("can_accept_production_requests", true, S::Bool),
            F("can_change_participant_permissions", true, S::Bool),
            F("can_edit_display_name", true, S::Bool),
            F("can_livestream", true, S::Bool),
            F("can_record", true, S::Bool),
            F("can_spotlight", true, S::Bool),
            F(
                "chat",
                true,
                S::Obj(&[
                    F(
                        "private",
                        true,
                        S::Obj(&[
                            F("can_receive", true, S::Bool),
                            F("can_send", true, S::Bool),
                            F("files", true, S::Bool),
                            F("text", true, S::Bool),
                        ]),
                    ),
                    F(
                        "public",
                        true,
                        S::Obj(&[
                            F("can_send", true, S::Bool),
                            F("files", true, S::Bool),
                            F("text", true, S::Bool),
                        ]),
                    ),
                ]),
            ),
            F(
                "connected_meetings",
                true,
                S::Obj(&[
                    F("can_alter_connected_meetings", true, S::Bool),
                    F("can_switch_connected_meetings", true, S::Bool),
                    F("can_switch_to_parent_meeting", true, S::Bool),
                ]),
            ),
            F("disable_participant_audio", true, S::Bool),
            F("disable_participant_screensharing", true, S::Bool),
            F("disable_participant_video", true, S::Bool),
            F("hidden_participant", true, S::Bool),
            F("kick_participant", true, S::Bool),
            F(
                "media",
                true,
                S::Obj(&[
                    F("audio", true, S::Obj(&[F("can_produce", true, PRODUCE)])),
                    F("screenshare", true, S::Obj(&[F("can_produce", true, PRODUCE)])),
                    F("video", true, S::Obj(&[F("can_produce", true, PRODUCE)])),
                ]),
            ),
            F("pin_participant", true, S::Bool),
            F(
                "plugins",
                true,
                S::Obj(&[
                    F("can_close", true, S::Bool),
                    F("can_edit_config", true, S::Bool),
                    F("can_start", true, S::Bool),
                    // A map of plugin id to settings in current SDKs, a string or one settings
                    // object in the seed-era SDK: the generations disagree, so any is kept.
                    F("config", true, S::Any),
                ]),
            ),
            F(
                "polls",
                true,
                S::Obj(&[
                    F("can_create", true, S::Bool),
                    F("can_view", true, S::Bool),
                    F("can_vote", true, S::Bool),
                ]),
            ),
            F("recorder_type", true, S::Enum(&["RECORDER", "LIVESTREAMER", "NONE"])),
            F("show_participant_list", true, S::Bool),
            F("waiting_room_type", true, S::Enum(&["SKIP", "ON_PRIVILEGED_USER_ENTRY", "SKIP_ON_ACCEPT"])),
            F("accept_stage_requests", false, S::Bool),
            F("is_recorder", false, S::Bool),
            F("stage_access", false, PRODUCE),
            F("stage_enabled", false, S::Bool),
            F("transcription_enabled", false, S::Bool),
        ]),
    ),
    F(
        "ui",
        true,
        S::Obj(&[F(
            "design_tokens",
            true,
            S::Obj(&[
                F("border_radius", true, S::Enum(&["sharp", "rounded", "extra-rounded", "circular"])),
                F("border_width", true, S::Enum(&["none", "thin", "fat"])),
                F(
                    "colors",
                    true,
                    S::Obj(&[
                        F(
                            "background",
                            true,
                            S::Obj(&[
                                F("1000", true, S::Str),
                                F("600", true, S::Str),
                                F("700", true, S::Str),
                                F("800", true, S::Str),
                                F("900", true, S::Str),
                            ]),
                        ),
                        F(
                            "brand",
                            true,
                            S::Obj(&[
                                F("300", true, S::Str),
                                F("400", true, S::Str),
                                F("500", true, S::Str),
                                F("600", true, S::Str),
                                F("700", true, S::Str),
                            ]),
                        ),
                        F("danger", true, S::Str),
                        F("success", true, S::Str),
                        F("text", true, S::Str),
                        F("text_on_brand", true, S::Str),
                        F("video_bg", true, S::Str),
                        F("warning", true, S::Str),
                    ]),
                ),
                F("spacing_base", true, AMOUNT),
                F("theme", true, S::Enum(&["darkest", "dark", "light"])),
                F("font_family", false, S::Str),
                F("google_font", false, S::Str),
                F("logo", false, S::Str),
            ]),
        )]),
    ),
]);

const STORAGE_FIELDS: &[F] = &[
    F("type", false, S::Enum(&["aws", "azure", "digitalocean", "gcs", "sftp"])),
    F("access_key", false, S::Any),
    F("secret", false, S::Str),
    F("bucket", false, S::Str),
    F("region", false, S::Any),
    F("path", false, S::Str),
    F("auth_method", false, S::Enum(&["KEY", "PASSWORD"])),
    F("username", false, S::Str),
    F("password", false, S::Str),
    F("host", false, S::Str),
    F("port", false, S::Whole(1, 65535)),
    F("private_key", false, S::Str),
];

/// Fields of a storage config that clients may write but never read back.
pub const WRITE_ONLY_STORAGE_FIELDS: &[&str] = &["access_key", "secret", "password", "private_key"];

pub const AI_CONFIG: S = S::Obj(&[
    F(
        "summarization",
        false,
        S::Obj(&[
            F(
                "summary_type",
                false,
                S::Enum(&[
                    "general",
                    "team_meeting",
                    "sales_call",
                    "client_check_in",
                    "interview",
                    "daily_standup",
                    "one_on_one_meeting",
                    "lecture",
                    "code_review",
                ]),
            ),
            F("text_format", false, S::Enum(&["plain_text", "markdown"])),
            F("word_limit", false, COUNT),
        ]),
    ),
    F(
        "transcription",
        false,
        S::Obj(&[
            F("keywords", false, S::Arr(&S::Str)),
            F(
                "language",
                false,
                S::Enum(&["en-US", "en-IN", "de", "hi", "sv", "ru", "pl", "el", "fr", "nl"]),
            ),
            F("profanity_filter", false, S::Bool),
        ]),
    ),
]);

const AUDIO_FIELDS: &[F] = &[
    F("channel", false, S::Enum(&["mono", "stereo"])),
    F("codec", false, S::Enum(&["MP3", "AAC"])),
    F("export_file", false, S::Bool),
];

const VIDEO_FIELDS: &[F] = &[
    F("codec", false, S::Enum(&["H264", "VP8", "VP9"])),
    F("export_file", false, S::Bool),
    F("height", false, COUNT),
    F("width", false, COUNT),
    F(
        "watermark",
        false,
        S::Obj(&[
            F("position", false, S::Enum(&["left top", "right top", "left bottom", "right bottom"])),
            F("size", false, S::Obj(&[F("height", false, COUNT), F("width", false, COUNT)])),
            F("url", false, S::Str),
        ]),
    ),
];

pub const RECORDING_CONFIG: S = S::Obj(&[
    F("audio_config", false, S::Obj(AUDIO_FIELDS)),
    F("file_name_prefix", false, S::Str),
    F("live_streaming_config", false, S::Obj(&[F("rtmp_url", false, S::Str)])),
    // "ranging from a minimum of 60 seconds to a maximum of 24 hours" (the SDKs' docs).
    F("max_seconds", false, S::Real(60.0, 86_400.0)),
    F("realtimekit_bucket_config", false, S::Obj(&[F("enabled", true, S::Bool)])),
    F("storage_config", false, S::Null(&S::Obj(STORAGE_FIELDS))),
    F("video_config", false, S::Obj(VIDEO_FIELDS)),
]);

/// The body of `POST …/recordings` (the SDKs' start parameters; types checked, members rtk
/// does not know kept in the stored configuration).
pub const RECORDING_START: S = S::Obj(&[
    F("meeting_id", true, S::Str),
    F("allow_multiple_recordings", false, S::Bool),
    F("audio_config", false, S::Obj(AUDIO_FIELDS)),
    F("file_name_prefix", false, S::Str),
    F("interactive_config", false, S::Obj(&[F("type", false, S::Enum(&["ID3"]))])),
    // "ranging from a minimum of 60 seconds to a maximum of 24 hours"; an int in the SDKs.
    F("max_seconds", false, S::Whole(60, 86_400)),
    F("realtimekit_bucket_config", false, S::Obj(&[F("enabled", true, S::Bool)])),
    F("rtmp_out_config", false, S::Obj(&[F("rtmp_url", false, S::Str)])),
    F("storage_config", false, S::Null(&S::Obj(STORAGE_FIELDS))),
    F("url", false, S::Str),
    F("video_config", false, S::Obj(VIDEO_FIELDS)),
]);

/// The body of `POST …/recordings/track`.
pub const TRACK_RECORDING_START: S = S::Obj(&[
    F("meeting_id", true, S::Str),
    F(
        "layers",
        false,
        S::Map(&S::Obj(&[F("file_name_prefix", false, S::Str), F("media_kind", false, S::Enum(&["audio"]))])),
    ),
    F("user_ids", false, S::Arr(&S::Str)),
]);

/// Meeting create / replace / update bodies (every field optional).
pub const MEETING_IN: S = S::Obj(&[
    F("title", false, S::Null(&S::Str)),
    F(
        "preferred_region",
        false,
        S::Null(&S::Enum(&["ap-south-1", "ap-southeast-1", "us-east-1", "eu-central-1"])),
    ),
    F("record_on_start", false, S::Null(&S::Bool)),
    F("live_stream_on_start", false, S::Null(&S::Bool)),
    F("persist_chat", false, S::Bool),
    F("summarize_on_end", false, S::Bool),
    F("transcribe_on_end", false, S::Bool),
    F("session_keep_alive_time_in_secs", false, S::Num),
    F("status", false, S::Enum(&["ACTIVE", "INACTIVE"])),
    F("ai_config", false, S::Null(&AI_CONFIG)),
    F("recording_config", false, S::Null(&RECORDING_CONFIG)),
]);

/// The meeting fields rtk stores (anything else in a body is ignored).
pub const MEETING_FIELDS: &[&str] = &[
    "title",
    "preferred_region",
    "record_on_start",
    "live_stream_on_start",
    "persist_chat",
    "summarize_on_end",
    "transcribe_on_end",
    "session_keep_alive_time_in_secs",
    "status",
    "ai_config",
    "recording_config",
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_every_bad_field() {
        let mut errors = FieldErrors::new();
        let v = json!({"name": 5, "config": {"view_type": "PARTY"}});
        validate(&v, &PRESET, "", false, &mut errors);
        assert!(errors.contains("\"name\" must be a string"), "{errors:?}");
        assert!(
            errors.listed().iter().any(|e| e.starts_with("\"config.view_type\" must be one of")),
            "{errors:?}"
        );
        assert!(errors.contains("\"ui\" is required"), "{errors:?}");
        assert!(errors.contains("\"config.max_screenshare_count\" is required"), "{errors:?}");
    }

    #[test]
    fn partial_skips_required_but_checks_types() {
        let mut errors = FieldErrors::new();
        validate(&json!({"config": {"media": {"video": {"quality": "8k"}}}}), &PRESET, "", true, &mut errors);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors.listed()[0].starts_with("\"config.media.video.quality\""));
    }

    #[test]
    fn counts_are_whole_and_in_range() {
        for bad in [json!(-1), json!(1.5), json!(1e300), json!(2147483648u64)] {
            let e = errors(&json!({"config": {"max_screenshare_count": bad}}), &PRESET, true);
            assert_eq!(
                e.listed(),
                ["\"config.max_screenshare_count\" must be a whole number from 0 to 2147483647"],
                "{bad}"
            );
        }
        for good in [json!(0), json!(3), json!(3.0)] {
            assert!(errors(&json!({"config": {"max_screenshare_count": good}}), &PRESET, true).is_empty());
        }
        let e = errors(&json!({"config": {"max_screenshare_count": "one"}}), &PRESET, true);
        assert_eq!(e.listed(), ["\"config.max_screenshare_count\" must be a number"]);
    }

    #[test]
    fn a_huge_list_of_bad_items_is_counted_not_listed() {
        let items: Vec<Value> = (0..100_000).map(|_| json!(1)).collect();
        let e = errors(&json!({"rooms": items}), &S::Obj(&[F("rooms", true, S::Arr(&S::Str))]), false);
        assert_eq!(e.len(), 100_000);
        assert_eq!(e.listed().len(), crate::error::MAX_LISTED_ERRORS);
        assert_eq!(e.listed()[0], "\"rooms[0]\" must be a string");
    }

    #[test]
    fn merge_is_deep_for_objects() {
        let mut a = json!({"a": {"b": 1, "c": 2}, "d": [1]});
        merge(&mut a, &json!({"a": {"b": 5}, "d": [2, 3]}));
        assert_eq!(a, json!({"a": {"b": 5, "c": 2}, "d": [2, 3]}));
    }
}
