//! Breakout rooms: creating them (one transaction) and the one rule for which meetings a peer
//! may move between, which the REST move and the gateway's switch both apply.

use super::{Engine, EngineError, EngineResult};
use crate::store::{new_id, MeetingRow};

/// Where a move from one meeting to another goes, when the rule allows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveTarget {
    /// To the root meeting (the parent of the breakout rooms).
    Parent,
    /// To a breakout room of the root meeting.
    Connected,
}

/// Why a move is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoveRefused {
    /// The target is neither the root meeting nor one of its breakout rooms.
    Unrelated { root: String },
    /// The target is the meeting the peer is in.
    SameMeeting,
}

/// The rule: from `here`, a peer may move to the root meeting (`here`'s parent, or `here`
/// itself) or to any breakout room of the root — but not to where it is.
pub fn move_target(here: &MeetingRow, target: &MeetingRow) -> Result<MoveTarget, MoveRefused> {
    let root = here.parent_meeting_id.as_deref().unwrap_or(&here.id);
    let kind = if target.id == root {
        MoveTarget::Parent
    } else if target.parent_meeting_id.as_deref() == Some(root) {
        MoveTarget::Connected
    } else {
        return Err(MoveRefused::Unrelated { root: root.to_string() });
    };
    if target.id == here.id {
        return Err(MoveRefused::SameMeeting);
    }
    Ok(kind)
}

impl Engine {
    /// Creates breakout rooms of `parent` (which must not be a breakout room itself and must
    /// have a live session), one per title (`None`: "<parent title> — room N"), in one
    /// transaction. The rooms copy the parent's configuration.
    pub async fn create_breakout_rooms(
        &self,
        parent: &MeetingRow,
        titles: &[Option<String>],
    ) -> EngineResult<Vec<MeetingRow>> {
        if parent.parent_meeting_id.is_some() {
            return Err(EngineError::Invalid("a breakout room cannot have breakout rooms of its own".into()));
        }
        self.active_session(&parent.id).await?;
        let now = self.now();
        let rooms: Vec<MeetingRow> = titles
            .iter()
            .enumerate()
            .map(|(i, title)| MeetingRow {
                id: new_id(),
                app_id: parent.app_id.clone(),
                title: Some(title.clone().unwrap_or_else(|| {
                    format!("{} — room {}", parent.title.clone().unwrap_or_else(|| "Breakout".into()), i + 1)
                })),
                status: "ACTIVE".into(),
                keep_alive_secs: parent.keep_alive_secs,
                body: parent.body.clone(),
                parent_meeting_id: Some(parent.id.clone()),
                created_at: now,
                updated_at: now,
            })
            .collect();
        self.store.insert_breakout_rooms(&rooms).await?;
        Ok(rooms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meeting(id: &str, parent: Option<&str>) -> MeetingRow {
        MeetingRow {
            id: id.into(),
            app_id: "app".into(),
            title: None,
            status: "ACTIVE".into(),
            keep_alive_secs: 60,
            body: "{}".into(),
            parent_meeting_id: parent.map(str::to_string),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn moves_within_one_family_only() {
        let root = meeting("root", None);
        let a = meeting("a", Some("root"));
        let b = meeting("b", Some("root"));
        let other = meeting("other", None);
        let elsewhere = meeting("x", Some("other"));
        assert_eq!(move_target(&root, &a), Ok(MoveTarget::Connected));
        assert_eq!(move_target(&a, &b), Ok(MoveTarget::Connected));
        assert_eq!(move_target(&a, &root), Ok(MoveTarget::Parent));
        assert_eq!(move_target(&a, &a), Err(MoveRefused::SameMeeting));
        assert_eq!(move_target(&root, &root), Err(MoveRefused::SameMeeting));
        assert_eq!(move_target(&a, &other), Err(MoveRefused::Unrelated { root: "root".into() }));
        assert_eq!(move_target(&a, &elsewhere), Err(MoveRefused::Unrelated { root: "root".into() }));
        assert_eq!(move_target(&other, &a), Err(MoveRefused::Unrelated { root: "other".into() }));
    }
}
