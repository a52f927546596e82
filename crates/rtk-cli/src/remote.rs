//! `rtk import --from-realtimekit`: an account's apps, presets, meetings, participants and
//! ended sessions (peers, chat, breakout rooms), read through the RealtimeKit API of a
//! server — Cloudflare's, or another rtk — and written as a fixtures file (docs/fixtures.md).
//!
//! Only what the API shows is written; aggregates are left to the import to compute from
//! the peers' intervals, as for any fixtures file. Not copied: API tokens (none can be read;
//! add an `api_tokens` entry, or `rtk token create`), webhooks (a copy would deliver to the
//! production receivers), live sessions, recordings. The file is checked with the same rules
//! `rtk import` applies before it is written.

use std::collections::{BTreeMap, HashMap};

use anyhow::Context;
use rtk_client::Client;
use serde_json::{json, Map, Value};

/// Items read per page.
const PER_PAGE: u32 = 100;

struct Remote<'a> {
    client: &'a Client,
    account: &'a str,
}

impl Remote<'_> {
    /// Every item of a list (the array at `data` or at `data.{field}`), page by page.
    async fn all(
        &self,
        path: &[&str],
        field: Option<&str>,
        query: &[(&str, String)],
    ) -> anyhow::Result<Vec<Value>> {
        let mut out = vec![];
        for page in 1u32.. {
            let mut q: Vec<(&str, String)> = query.to_vec();
            q.push(("page_no", page.to_string()));
            q.push(("per_page", PER_PAGE.to_string()));
            let r = self
                .client
                .get_json(self.account, path, &q)
                .await
                .with_context(|| format!("reading {}", path.join("/")))?;
            let data = r.data;
            let items = match field {
                Some(f) => data.get(f).cloned().unwrap_or(Value::Null),
                None => data,
            };
            let items = match items {
                Value::Array(a) => a,
                Value::Null => vec![],
                other => anyhow::bail!("{}: expected a list, got {other}", path.join("/")),
            };
            let n = items.len();
            out.extend(items);
            let more = match &r.paging {
                Some(p) => p.end_offset > 0 && p.end_offset < p.total_count,
                None => n as u32 >= PER_PAGE,
            };
            if !more || n == 0 {
                break;
            }
        }
        Ok(out)
    }

    async fn one(&self, path: &[&str], query: &[(&str, String)]) -> anyhow::Result<Value> {
        Ok(self
            .client
            .get_json(self.account, path, query)
            .await
            .with_context(|| format!("reading {}", path.join("/")))?
            .data)
    }
}

fn s(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

/// `v` without the keys `drop`.
fn without(v: &Value, drop: &[&str]) -> Map<String, Value> {
    let mut m = v.as_object().cloned().unwrap_or_default();
    for k in drop {
        m.remove(*k);
    }
    m
}

/// Reads the account and returns the fixtures file (not yet checked) and a count of what it
/// holds, by kind.
pub async fn read_account(
    client: &Client,
    account: &str,
) -> anyhow::Result<(Value, BTreeMap<&'static str, usize>)> {
    let r = Remote { client, account };
    let mut out = json!({"rtk_fixtures": rtk_server::fixtures::VERSION, "accounts": [{"id": account}]});
    let (mut apps, mut presets, mut meetings, mut participants, mut sessions) =
        (vec![], vec![], vec![], vec![], vec![]);
    let mut skipped_live = 0usize;
    for app in r.all(&["apps"], None, &[]).await? {
        let app_id = s(&app, "id").context("an app without an id")?;
        let a = app_id.as_str();
        apps.push(json!({"id": app_id, "account_id": account, "name": app["name"], "created_at": app["created_at"]}));
        for p in r.all(&[a, "presets"], None, &[]).await? {
            let id = s(&p, "id").context("a preset without an id")?;
            let full = r.one(&[a, "presets", id.as_str()], &[]).await?;
            let mut entry = Map::new();
            entry.insert("id".into(), id.into());
            entry.insert("app_id".into(), app_id.clone().into());
            for t in ["created_at", "updated_at"] {
                if let Some(v) = full.get(t).or_else(|| p.get(t)) {
                    entry.insert(t.into(), v.clone());
                }
            }
            entry.extend(without(&full, &["id", "created_at", "updated_at"]));
            presets.push(Value::Object(entry));
        }
        // Meetings, as the create-meeting fields (the rest of the view is not writable).
        let mut keep_alive: HashMap<String, i64> = HashMap::new();
        let mut app_meetings: Vec<Map<String, Value>> = vec![];
        for m in r.all(&[a, "meetings"], None, &[]).await? {
            let id = s(&m, "id").context("a meeting without an id")?;
            let mut entry = Map::new();
            entry.insert("id".into(), id.clone().into());
            entry.insert("app_id".into(), app_id.clone().into());
            for t in ["created_at", "updated_at"] {
                if let Some(v) = m.get(t) {
                    entry.insert(t.into(), v.clone());
                }
            }
            for k in rtk_server::http::schema::MEETING_FIELDS {
                if let Some(v) = m.get(*k) {
                    entry.insert((*k).to_string(), v.clone());
                }
            }
            keep_alive.insert(id.clone(), m["session_keep_alive_time_in_secs"].as_i64().unwrap_or(0));
            for p in r.all(&[a, "meetings", id.as_str(), "participants"], None, &[]).await? {
                let pid = s(&p, "id").context("a participant without an id")?;
                let mut e = json!({"id": pid, "meeting_id": id, "preset_name": p["preset_name"],
                                   "custom_participant_id": p["custom_participant_id"], "name": p["name"],
                                   "picture": p["picture"], "created_at": p["created_at"], "updated_at": p["updated_at"]});
                if let Some(o) = e.as_object_mut() {
                    o.retain(|_, v| !v.is_null());
                }
                participants.push(e);
            }
            app_meetings.push(entry);
        }
        // Ended sessions, oldest first (a breakout room's session after its parent's).
        let mut list = r.all(&[a, "sessions"], Some("sessions"), &[("sort_order", "ASC".into())]).await?;
        list.retain(|x| {
            let ended = x["status"] == "ENDED";
            skipped_live += usize::from(!ended);
            ended
        });
        let meeting_of: HashMap<String, String> = list
            .iter()
            .filter_map(|x| Some((s(x, "id")?, s(x, "associated_id").or_else(|| s(x, "meeting_id"))?)))
            .collect();
        let mut parent_meeting: HashMap<String, String> = HashMap::new();
        for x in &list {
            let sid = s(x, "id").context("a session without an id")?;
            let mid = meeting_of.get(&sid).cloned().context("a session without its meeting")?;
            let parent = s(x, "parent_session_id");
            if let Some(ps) = &parent {
                if let Some(pm) = meeting_of.get(ps) {
                    parent_meeting.insert(mid.clone(), pm.clone());
                }
            }
            let q = [("include_peer_events", "true".to_string())];
            let mut peers = vec![];
            for p in r.all(&[a, "sessions", sid.as_str(), "participants"], Some("participants"), &q).await? {
                let peer_id = s(&p, "id").context("a session participant without an id")?;
                let detail =
                    r.one(&[a, "sessions", sid.as_str(), "participants", peer_id.as_str()], &[]).await.ok();
                let device = detail
                    .as_ref()
                    .and_then(|d| d.get("participant").unwrap_or(d).get("device").cloned())
                    .filter(Value::is_object);
                let reason = p["peer_events"]
                    .as_array()
                    .and_then(|evs| evs.iter().find(|e| e["event_name"] == "PEER_LEAVING"))
                    .and_then(|e| s(e, "reason"));
                let mut e = json!({"id": peer_id,
                    "participant_id": p.get("participant_id").filter(|v| !v.is_null()).unwrap_or(&p["user_id"]),
                    "custom_participant_id": p["custom_participant_id"], "display_name": p["display_name"],
                    "preset_name": p["preset_name"], "joined_at": p["joined_at"], "left_at": p["left_at"]});
                if let (Some(o), Some(d)) = (e.as_object_mut(), device) {
                    o.insert("device".into(), d);
                }
                if let (Some(o), Some(r)) = (e.as_object_mut(), reason) {
                    o.insert("leave_reason".into(), r.into());
                }
                peers.push(e);
            }
            let mut chat = vec![];
            for c in r.all(&[a, "sessions", sid.as_str(), "chat"], Some("messages"), &[]).await? {
                chat.push(json!({"id": c["id"], "peer_id": c["peer_id"], "message": c["message"], "sent_at": c["sent_at"]}));
            }
            // A session that ended as it was kicked ends at its last leave with no keep-alive.
            let kicked = keep_alive.get(&mid).copied().unwrap_or(0) > 0 && x["updated_at"] == x["ended_at"];
            let ended_by = if kicked { "kick_all" } else { "keep_alive" };
            let mut e =
                json!({"id": sid, "meeting_id": mid, "ended_by": ended_by, "peers": peers, "chat": chat});
            if let (Some(o), Some(p)) = (e.as_object_mut(), parent) {
                o.insert("parent_session_id".into(), p.into());
            }
            sessions.push(e);
        }
        // A meeting whose sessions ran inside another's is that meeting's breakout room.
        for m in &mut app_meetings {
            let id = m.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
            if let Some(p) = parent_meeting.get(&id) {
                m.insert("parent_meeting_id".into(), p.clone().into());
            }
        }
        meetings.extend(app_meetings.into_iter().map(Value::Object));
    }
    let mut counts = BTreeMap::new();
    for (k, v) in [
        ("apps", apps),
        ("presets", presets),
        ("meetings", meetings),
        ("participants", participants),
        ("sessions", sessions),
    ] {
        counts.insert(k, v.len());
        if !v.is_empty() {
            out[k] = Value::Array(v);
        }
    }
    counts.insert("live sessions left out", skipped_live);
    Ok((out, counts))
}
