//! A recording's file: the session's timeline over the recorded interval (docs/recordings.md).
//!
//! Offsets are media time: milliseconds of recording since it started, pauses excluded, so an
//! event's offset is where a player of the (absent) media would show it. What happened while
//! the recording was paused is not in the file, as it would not be in a video.

use serde_json::{json, Value};

use crate::clock::{rfc3339, Millis};
use crate::export::{cue_time, vtt_text};
use crate::store::{RecordingRow, Store, StoreResult};

/// The version of the file format (`format` in the JSON).
pub const FORMAT: &str = "rtk-recording/1";

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub at: Millis,
    pub offset_ms: i64,
    pub kind: &'static str,
    pub peer_id: Option<String>,
    pub display_name: Option<String>,
    pub text: Option<String>,
    pub poll: Option<Value>,
}

#[derive(Debug, Clone)]
pub struct Timeline {
    rec: RecordingRow,
    participants: Vec<Value>,
    events: Vec<Event>,
}

/// The recorded intervals of `r`: started to stopped, less its pauses.
fn intervals(r: &RecordingRow) -> Vec<(Millis, Millis)> {
    let (Some(start), Some(stop)) = (r.started_at, r.stopped_at) else { return vec![] };
    let mut out = vec![];
    let mut from = start;
    for (p, q) in r.pause_list() {
        if p > from {
            out.push((from, p.min(stop)));
        }
        from = from.max(q);
    }
    if stop > from {
        out.push((from, stop));
    }
    out
}

/// The media offset of wall time `t`, if `t` was recorded (an interval's end counts).
fn offset(ivs: &[(Millis, Millis)], t: Millis) -> Option<i64> {
    let mut before = 0;
    for &(a, b) in ivs {
        if t >= a && t <= b {
            return Some(before + (t - a));
        }
        before += b - a;
    }
    None
}

impl Timeline {
    /// Reads what the file of `r` holds from the store.
    pub async fn read(store: &Store, r: &RecordingRow) -> StoreResult<Self> {
        let ivs = intervals(r);
        let mut events = vec![];
        let mut participants = vec![];
        let Some(session_id) = r.session_id.clone() else {
            return Ok(Self { rec: r.clone(), participants, events });
        };
        let only: Option<Vec<String>> = if r.kind == "track" {
            serde_json::from_str::<Value>(&r.config).ok().and_then(|c| {
                c.get("user_ids")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
            })
        } else {
            None
        };
        let wanted = |participant: &str, custom: &str| {
            only.as_ref().is_none_or(|ids| ids.iter().any(|i| i == participant || i == custom))
        };
        let (start, stop) = match (ivs.first(), ivs.last()) {
            (Some(f), Some(l)) => (f.0, l.1),
            _ => (0, -1),
        };
        let peers = store.session_peers(std::slice::from_ref(&session_id)).await?;
        let mut peer_ids = std::collections::HashSet::new();
        for p in &peers {
            if !wanted(&p.participant_id, &p.custom_participant_id) {
                continue;
            }
            let left = p.left_at.or(p.dropped_at);
            // Present at some time in [start, stop]?
            if p.joined_at > stop || left.is_some_and(|l| l < start) {
                continue;
            }
            peer_ids.insert(p.id.clone());
            participants.push(json!({
                "peer_id": p.id,
                "participant_id": p.participant_id,
                "custom_participant_id": p.custom_participant_id,
                "display_name": p.display_name,
                "joined_at": rfc3339(p.joined_at),
                "left_at": p.left_at.map(rfc3339),
            }));
            let ev = |at: Millis, kind: &'static str, offset_ms: i64| Event {
                at,
                offset_ms,
                kind,
                peer_id: Some(p.id.clone()),
                display_name: p.display_name.clone(),
                text: None,
                poll: None,
            };
            if p.joined_at < start {
                events.push(ev(start, "peer_present", 0));
            } else if let Some(o) = offset(&ivs, p.joined_at) {
                events.push(ev(p.joined_at, "peer_joined", o));
            }
            if let Some(l) = left {
                if l < stop || (l == stop && p.left_at.is_some()) {
                    if let Some(o) = offset(&ivs, l) {
                        events.push(ev(l, "peer_left", o));
                    }
                }
            }
        }
        let mut after: Option<(Millis, String)> = None;
        loop {
            let batch =
                store.chat_after(&session_id, after.as_ref().map(|(t, id)| (*t, id.as_str())), 500).await?;
            for c in &batch {
                if !peer_ids.contains(&c.peer_id) && only.is_some() {
                    continue;
                }
                if let Some(o) = offset(&ivs, c.sent_at) {
                    events.push(Event {
                        at: c.sent_at,
                        offset_ms: o,
                        kind: "chat",
                        peer_id: Some(c.peer_id.clone()),
                        display_name: c.display_name.clone(),
                        text: Some(c.message.clone()),
                        poll: None,
                    });
                }
            }
            match batch.last() {
                Some(last) if batch.len() == 500 => after = Some((last.sent_at, last.id.clone())),
                _ => break,
            }
        }
        for (_, body, at) in store.session_polls(&session_id).await? {
            if let Some(o) = offset(&ivs, at) {
                events.push(Event {
                    at,
                    offset_ms: o,
                    kind: "poll",
                    peer_id: None,
                    display_name: None,
                    text: None,
                    poll: serde_json::from_str(&body).ok(),
                });
            }
        }
        for (p, q) in r.pause_list() {
            if let Some(o) = offset(&ivs, p) {
                for (at, kind) in [(p, "paused"), (q, "resumed")] {
                    events.push(Event {
                        at,
                        offset_ms: o,
                        kind,
                        peer_id: None,
                        display_name: None,
                        text: None,
                        poll: None,
                    });
                }
            }
        }
        events.sort_by_key(|e| (e.offset_ms, e.at));
        Ok(Self { rec: r.clone(), participants, events })
    }

    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Recorded milliseconds (pauses excluded).
    pub fn duration_ms(&self) -> i64 {
        intervals(&self.rec).iter().map(|(a, b)| b - a).sum()
    }

    /// The JSON document (compact, UTF-8).
    pub fn to_json(&self) -> String {
        let r = &self.rec;
        let events: Vec<Value> = self
            .events
            .iter()
            .map(|e| {
                let mut v = json!({ "offset_ms": e.offset_ms, "at": rfc3339(e.at), "type": e.kind });
                let o = v.as_object_mut().expect("an object");
                if let Some(p) = &e.peer_id {
                    o.insert("peer_id".into(), json!(p));
                    o.insert("display_name".into(), json!(e.display_name));
                }
                if let Some(t) = &e.text {
                    o.insert("message".into(), json!(t));
                }
                if let Some(p) = &e.poll {
                    o.insert("poll".into(), p.clone());
                }
                v
            })
            .collect();
        json!({
            "format": FORMAT,
            "media": "none: rtk carries no audio or video; this file is the session's timeline over the recorded interval",
            "recording_id": r.id,
            "meeting_id": r.meeting_id,
            "session_id": r.session_id,
            "kind": r.kind,
            "started_time": r.started_at.map(rfc3339),
            "stopped_time": r.stopped_at.map(rfc3339),
            "recording_duration_ms": self.duration_ms(),
            "pauses": r.pause_list().iter().map(|(a, b)| json!({"from": rfc3339(*a), "to": rfc3339(*b)})).collect::<Vec<_>>(),
            "participants": self.participants,
            "events": events,
        })
        .to_string()
    }

    /// The same events as a WebVTT track: one cue per event, a second long (shorter at the
    /// end of the recording), at its media offset.
    pub fn to_vtt(&self) -> String {
        let total = self.duration_ms();
        let mut out = format!("WEBVTT - rtk recording {}\n\n", vtt_text(&self.rec.id));
        for (i, e) in self.events.iter().enumerate() {
            let end = (e.offset_ms + 1000).min(total.max(e.offset_ms));
            let who = e.display_name.as_deref().or(e.peer_id.as_deref()).unwrap_or("");
            let line = match e.kind {
                "peer_present" => format!("{who} is here"),
                "peer_joined" => format!("{who} joined"),
                "peer_left" => format!("{who} left"),
                "chat" => format!("{who}: {}", e.text.as_deref().unwrap_or("")),
                "poll" => format!(
                    "Poll: {}",
                    e.poll.as_ref().and_then(|p| p.get("question")).and_then(Value::as_str).unwrap_or("")
                ),
                "paused" => "Recording paused".to_string(),
                "resumed" => "Recording resumed".to_string(),
                other => other.to_string(),
            };
            out.push_str(&format!(
                "{}\n{} --> {}\n{}\n\n",
                i + 1,
                cue_time(e.offset_ms, '.'),
                cue_time(end, '.'),
                vtt_text(&line)
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(start: Millis, stop: Millis, pauses: &str) -> RecordingRow {
        RecordingRow {
            id: "r".into(),
            app_id: "a".into(),
            meeting_id: "m".into(),
            session_id: Some("s".into()),
            kind: "composite".into(),
            status: "UPLOADING".into(),
            invoked_at: start,
            started_at: Some(start),
            stopped_at: Some(stop),
            paused_at: None,
            paused_ms: 0,
            pauses: pauses.into(),
            max_seconds: None,
            start_reason: "API_CALL".into(),
            stop_reason: None,
            output_file_name: "r.json".into(),
            config: "{}".into(),
            file_size: None,
            storage_key: None,
            download_expires_at: None,
            err_message: None,
            updated_at: stop,
        }
    }

    #[test]
    fn offsets_skip_pauses() {
        let r = rec(1_000, 41_000, "[[11000,21000]]");
        let ivs = intervals(&r);
        assert_eq!(ivs, vec![(1_000, 11_000), (21_000, 41_000)]);
        assert_eq!(offset(&ivs, 1_000), Some(0));
        assert_eq!(offset(&ivs, 11_000), Some(10_000));
        assert_eq!(offset(&ivs, 15_000), None, "paused");
        assert_eq!(offset(&ivs, 21_000), Some(10_000));
        assert_eq!(offset(&ivs, 41_000), Some(30_000));
        assert_eq!(offset(&ivs, 41_001), None);
    }
}
