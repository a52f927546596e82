//! Delivery bodies, as Cloudflare documents them (camelCase; docs/webhooks.md says where rtk
//! chooses). Every body is compact serde_json, stable under `JSON.stringify(JSON.parse(b))`.

use rtk_api::webhooks::{HookCounts, HookEvent, HookMeeting, HookParticipant, OrganizedBy};

use crate::clock::{rfc3339, Millis};

/// What every event of one session says about its meeting, as of the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingCtx {
    pub meeting_id: String,
    pub session_id: String,
    pub title: Option<String>,
    /// The meeting's creation.
    pub created_at: Millis,
    /// The session's start.
    pub started_at: Millis,
    /// The session's end, once it has ended.
    pub ended_at: Option<Millis>,
    pub app_id: String,
    pub app_name: String,
    /// The session's counts as of the change (rtk's extension, `rtk` in the body).
    pub counts: Option<HookCounts>,
}

/// A peer as participant events show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerCtx {
    pub peer_id: String,
    pub display_name: String,
    pub custom_participant_id: String,
    pub joined_at: Millis,
    pub left_at: Option<Millis>,
}

fn organized_by(c: &MeetingCtx) -> OrganizedBy {
    OrganizedBy { id: c.app_id.clone(), name: c.app_name.clone() }
}

pub fn meeting_block(c: &MeetingCtx) -> HookMeeting {
    HookMeeting {
        id: c.meeting_id.clone(),
        session_id: c.session_id.clone(),
        title: c.title.clone(),
        room_name: c.meeting_id.clone(),
        status: "LIVE".into(),
        created_at: rfc3339(c.created_at),
        started_at: rfc3339(c.started_at),
        ended_at: c.ended_at.map(rfc3339),
        organized_by: organized_by(c),
    }
}

fn participant(p: &PeerCtx) -> HookParticipant {
    HookParticipant {
        peer_id: p.peer_id.clone(),
        user_display_name: p.display_name.clone(),
        custom_participant_id: p.custom_participant_id.clone(),
        client_specific_id: p.custom_participant_id.clone(),
        joined_at: rfc3339(p.joined_at),
        left_at: p.left_at.map(rfc3339),
    }
}

pub fn body(e: &HookEvent) -> String {
    // Serialising these plain structs cannot fail.
    serde_json::to_string(e).unwrap_or_default()
}

pub fn started(c: &MeetingCtx) -> HookEvent {
    HookEvent::MeetingStarted { meeting: meeting_block(c), rtk: c.counts }
}

pub fn joined(c: &MeetingCtx, p: &PeerCtx) -> HookEvent {
    HookEvent::ParticipantJoined { meeting: meeting_block(c), participant: participant(p), rtk: c.counts }
}

pub fn left(c: &MeetingCtx, p: &PeerCtx) -> HookEvent {
    HookEvent::ParticipantLeft { meeting: meeting_block(c), participant: participant(p), rtk: c.counts }
}

/// `reason`: `HOST_ENDED_MEETING` or `ALL_PARTICIPANTS_LEFT`.
pub fn ended(c: &MeetingCtx, reason: &str) -> HookEvent {
    HookEvent::MeetingEnded { meeting: meeting_block(c), reason: reason.into(), rtk: c.counts }
}

pub fn chat_synced(c: &MeetingCtx, url: &str, expiry: Millis) -> HookEvent {
    HookEvent::ChatSynced {
        session_id: c.session_id.clone(),
        meeting_id: c.meeting_id.clone(),
        title: c.title.clone(),
        chat_download_url: url.into(),
        chat_download_url_expiry: rfc3339(expiry),
        created_at: rfc3339(c.created_at),
        started_at: rfc3339(c.started_at),
        ended_at: rfc3339(c.ended_at.unwrap_or(c.started_at)),
        organized_by: organized_by(c),
    }
}

/// `recording.statusUpdate` for `r` as it stands at `now`; `download` once its file is stored.
pub fn recording(
    c: &MeetingCtx,
    r: &crate::store::RecordingRow,
    download: Option<(&str, Millis)>,
    now: Millis,
) -> HookEvent {
    let stopped = r.stopped_at.is_some();
    HookEvent::RecordingStatusUpdate {
        recording: rtk_api::webhooks::HookRecording {
            id: r.id.clone(),
            recording_id: r.id.clone(),
            status: r.status.clone(),
            download_url: download.map(|(u, _)| u.to_string()),
            audio_download_url: None,
            download_url_expiry: download.map(|(_, e)| rfc3339(e)),
            started_time: r.started_at.map(rfc3339),
            stopped_time: r.stopped_at.map(rfc3339),
            file_size: r.file_size.map(|n| n.to_string()),
            output_file_name: r.output_file_name.clone(),
            meeting_id: r.meeting_id.clone(),
            recording_duration: if stopped { r.recorded_ms(now).map(|ms| ms / 1000) } else { None },
            organization_id: r.app_id.clone(),
            room_uuid: r.session_id.clone(),
            stop_reason: r.stop_reason.clone(),
        },
        meeting: meeting_block(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> MeetingCtx {
        MeetingCtx {
            meeting_id: "m1".into(),
            session_id: "s1".into(),
            title: Some("Weekly \u{2028}sync \u{1f}\"/".into()),
            created_at: 1_780_480_800_000,
            started_at: 1_780_480_800_000,
            ended_at: None,
            app_id: "a1".into(),
            app_name: "Example organization".into(),
            counts: None,
        }
    }

    #[test]
    fn started_matches_the_documented_shape() {
        let mut c = ctx();
        c.title = Some("Weekly sync".into());
        assert_eq!(
            body(&started(&c)),
            r#"{"event":"meeting.started","meeting":{"id":"m1","sessionId":"s1","title":"Weekly sync","roomName":"m1","status":"LIVE","createdAt":"2026-06-03T10:00:00.000Z","startedAt":"2026-06-03T10:00:00.000Z","organizedBy":{"id":"a1","name":"Example organization"}}}"#
        );
        c.ended_at = Some(c.started_at + 1_800_000);
        let b = body(&ended(&c, "ALL_PARTICIPANTS_LEFT"));
        assert!(b.ends_with(r#""endedAt":"2026-06-03T10:30:00.000Z","organizedBy":{"id":"a1","name":"Example organization"}},"reason":"ALL_PARTICIPANTS_LEFT"}"#), "{b}");
    }

    #[test]
    fn bodies_are_compact_and_escape_like_json_stringify() {
        let b = body(&started(&ctx()));
        assert!(!b.contains(": ") && !b.contains(", "), "{b}");
        // U+2028 and '/' raw, control characters as lowercase \u00xx: JSON.stringify's output.
        assert!(b.contains("Weekly \u{2028}sync \\u001f\\\"/"), "{b}");
    }
}
