//! Whole-store dump and import (fixtures: `rtk import`, `rtk export`, `rtk serve --fixtures`).
//!
//! The store only moves rows here: the fixtures module (`crate::fixtures`) owns the file
//! format, validation and the session aggregates. A dump reads every table in a fixed order;
//! an import inserts rows that are all new, in one transaction (nothing is written if any
//! insert fails).

use sqlx::any::AnyRow;

use super::sessions::{peer_row, session_row, PEER_COLS, SESSION_COLS};
use super::{col, AccountRow, ChatRow, MeetingRow, ParticipantRow, PeerRow, PresetRow, SessionRow, Store};
use super::{AppRow, StoreResult, TokenRow};

/// Every row the fixtures format covers, in a deterministic order.
#[derive(Debug, Clone, Default)]
pub struct Dump {
    pub accounts: Vec<AccountRow>,
    /// Each token with its stored SHA-256 (hex).
    pub tokens: Vec<(TokenRow, String)>,
    pub apps: Vec<AppRow>,
    pub presets: Vec<PresetRow>,
    pub meetings: Vec<MeetingRow>,
    pub participants: Vec<ParticipantRow>,
    pub sessions: Vec<SessionRow>,
    pub peers: Vec<PeerRow>,
    pub chat: Vec<ChatRow>,
}

fn rows_of<T>(rows: &[AnyRow], f: impl Fn(&AnyRow) -> StoreResult<T>) -> StoreResult<Vec<T>> {
    rows.iter().map(f).collect()
}

impl Store {
    /// Reads every account, token, app, preset, meeting, participant, session, peer and chat
    /// message: each kind ordered by `created_at, id` (sessions by `started_at, id`, peers by
    /// `joined_at, id`, chat by `sent_at, id`).
    pub async fn dump(&self) -> StoreResult<Dump> {
        let p = self.pool();
        let accounts =
            sqlx::query("SELECT id, created_at FROM accounts ORDER BY created_at, id").fetch_all(p).await?;
        let tokens = sqlx::query(
            "SELECT id, account_id, name, email, token_hash, created_at, revoked_at FROM api_tokens \
             ORDER BY created_at, id",
        )
        .fetch_all(p)
        .await?;
        let apps = sqlx::query("SELECT id, account_id, name, created_at FROM apps ORDER BY created_at, id")
            .fetch_all(p)
            .await?;
        let presets = sqlx::query(
            "SELECT id, app_id, name, body, created_at, updated_at FROM presets ORDER BY created_at, id",
        )
        .fetch_all(p)
        .await?;
        let meetings = sqlx::query(
            "SELECT id, app_id, title, status, keep_alive_secs, body, parent_meeting_id, created_at, updated_at \
             FROM meetings ORDER BY created_at, id",
        )
        .fetch_all(p)
        .await?;
        let participants = sqlx::query(
            "SELECT id, meeting_id, app_id, custom_participant_id, preset_id, preset_name, name, picture, \
             created_at, updated_at FROM participants ORDER BY created_at, id",
        )
        .fetch_all(p)
        .await?;
        let sessions = sqlx::query(&format!("SELECT {SESSION_COLS} FROM sessions ORDER BY started_at, id"))
            .fetch_all(p)
            .await?;
        let peers = sqlx::query(&format!("SELECT {PEER_COLS} FROM peers ORDER BY joined_at, id"))
            .fetch_all(p)
            .await?;
        let chat = sqlx::query(
            "SELECT id, session_id, peer_id, participant_id, display_name, message, sent_at FROM chat_messages \
             ORDER BY sent_at, id",
        )
        .fetch_all(p)
        .await?;
        Ok(Dump {
            accounts: rows_of(&accounts, |r| {
                Ok(AccountRow { id: col(r, "id")?, created_at: col(r, "created_at")? })
            })?,
            tokens: rows_of(&tokens, |r| {
                Ok((
                    TokenRow {
                        id: col(r, "id")?,
                        account_id: col(r, "account_id")?,
                        name: col(r, "name")?,
                        email: col(r, "email")?,
                        created_at: col(r, "created_at")?,
                        revoked_at: col(r, "revoked_at")?,
                    },
                    col(r, "token_hash")?,
                ))
            })?,
            apps: rows_of(&apps, |r| {
                Ok(AppRow {
                    id: col(r, "id")?,
                    account_id: col(r, "account_id")?,
                    name: col(r, "name")?,
                    created_at: col(r, "created_at")?,
                })
            })?,
            presets: rows_of(&presets, |r| {
                Ok(PresetRow {
                    id: col(r, "id")?,
                    app_id: col(r, "app_id")?,
                    name: col(r, "name")?,
                    body: col(r, "body")?,
                    created_at: col(r, "created_at")?,
                    updated_at: col(r, "updated_at")?,
                })
            })?,
            meetings: rows_of(&meetings, |r| {
                Ok(MeetingRow {
                    id: col(r, "id")?,
                    app_id: col(r, "app_id")?,
                    title: col(r, "title")?,
                    status: col(r, "status")?,
                    keep_alive_secs: col(r, "keep_alive_secs")?,
                    body: col(r, "body")?,
                    parent_meeting_id: col(r, "parent_meeting_id")?,
                    created_at: col(r, "created_at")?,
                    updated_at: col(r, "updated_at")?,
                })
            })?,
            participants: rows_of(&participants, |r| {
                Ok(ParticipantRow {
                    id: col(r, "id")?,
                    meeting_id: col(r, "meeting_id")?,
                    app_id: col(r, "app_id")?,
                    custom_participant_id: col(r, "custom_participant_id")?,
                    preset_id: col(r, "preset_id")?,
                    preset_name: col(r, "preset_name")?,
                    name: col(r, "name")?,
                    picture: col(r, "picture")?,
                    created_at: col(r, "created_at")?,
                    updated_at: col(r, "updated_at")?,
                })
            })?,
            sessions: rows_of(&sessions, session_row)?,
            peers: rows_of(&peers, peer_row)?,
            chat: rows_of(&chat, |r| {
                Ok(ChatRow {
                    id: col(r, "id")?,
                    session_id: col(r, "session_id")?,
                    peer_id: col(r, "peer_id")?,
                    participant_id: col(r, "participant_id")?,
                    display_name: col(r, "display_name")?,
                    message: col(r, "message")?,
                    sent_at: col(r, "sent_at")?,
                })
            })?,
        })
    }

    /// Inserts rows that are all new, parents before children, in one transaction. Sessions
    /// get their `seq` here (their app's next numbers, in the order given); each session's
    /// chat count is set from the messages given. Any failure (a row that exists meanwhile,
    /// a constraint) rolls everything back.
    pub async fn import_rows(&self, rows: &Dump) -> StoreResult<()> {
        let mut w = self.write().await?;
        let tx = &mut *w.tx;
        for a in &rows.accounts {
            sqlx::query("INSERT INTO accounts (id, created_at) VALUES ($1, $2)")
                .bind(&a.id)
                .bind(a.created_at)
                .execute(&mut *tx)
                .await?;
        }
        for (t, hash) in &rows.tokens {
            sqlx::query(
                "INSERT INTO api_tokens (id, account_id, name, email, token_hash, created_at, revoked_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&t.id)
            .bind(&t.account_id)
            .bind(&t.name)
            .bind(&t.email)
            .bind(hash)
            .bind(t.created_at)
            .bind(t.revoked_at)
            .execute(&mut *tx)
            .await?;
        }
        for a in &rows.apps {
            sqlx::query("INSERT INTO apps (id, account_id, name, created_at) VALUES ($1, $2, $3, $4)")
                .bind(&a.id)
                .bind(&a.account_id)
                .bind(&a.name)
                .bind(a.created_at)
                .execute(&mut *tx)
                .await?;
        }
        for p in &rows.presets {
            sqlx::query(
                "INSERT INTO presets (id, app_id, name, body, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&p.id)
            .bind(&p.app_id)
            .bind(&p.name)
            .bind(&p.body)
            .bind(p.created_at)
            .bind(p.updated_at)
            .execute(&mut *tx)
            .await?;
        }
        for m in &rows.meetings {
            sqlx::query(
                "INSERT INTO meetings (id, app_id, title, title_lc, status, keep_alive_secs, body, \
                 parent_meeting_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&m.id)
            .bind(&m.app_id)
            .bind(&m.title)
            .bind(m.title.as_ref().map(|t| t.to_lowercase()))
            .bind(&m.status)
            .bind(m.keep_alive_secs)
            .bind(&m.body)
            .bind(&m.parent_meeting_id)
            .bind(m.created_at)
            .bind(m.updated_at)
            .execute(&mut *tx)
            .await?;
        }
        for p in &rows.participants {
            sqlx::query(
                "INSERT INTO participants (id, meeting_id, app_id, custom_participant_id, preset_id, preset_name, \
                 name, picture, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&p.id)
            .bind(&p.meeting_id)
            .bind(&p.app_id)
            .bind(&p.custom_participant_id)
            .bind(&p.preset_id)
            .bind(&p.preset_name)
            .bind(&p.name)
            .bind(&p.picture)
            .bind(p.created_at)
            .bind(p.updated_at)
            .execute(&mut *tx)
            .await?;
        }
        for s in &rows.sessions {
            let seq: i64 = col(
                &sqlx::query(
                    "INSERT INTO app_counters (app_id, sessions) VALUES ($1, 1) \
                     ON CONFLICT (app_id) DO UPDATE SET sessions = app_counters.sessions + 1 RETURNING sessions",
                )
                .bind(&s.app_id)
                .fetch_one(&mut *tx)
                .await?,
                "sessions",
            )?;
            sqlx::query(&format!(
                "INSERT INTO sessions ({SESSION_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
                 $13, $14, $15, $16, $17, $18, $19, $20)"
            ))
            .bind(&s.id)
            .bind(&s.app_id)
            .bind(seq)
            .bind(&s.meeting_id)
            .bind(&s.meeting_title)
            .bind(&s.parent_session_id)
            .bind(&s.status)
            .bind(s.keep_alive_ms)
            .bind(s.started_at)
            .bind(s.ended_at)
            .bind(s.created_at)
            .bind(s.updated_at)
            .bind(s.live_count)
            .bind(s.max_live)
            .bind(s.peer_count)
            .bind(s.closed_ms)
            .bind(s.live_join_sum)
            .bind(s.last_leave_at)
            .bind(s.ends_at)
            .bind(s.dropped_count)
            .execute(&mut *tx)
            .await?;
        }
        for r in &rows.peers {
            sqlx::query(&format!(
                "INSERT INTO peers ({PEER_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
                 $14, $15, $16, $17)"
            ))
            .bind(&r.id)
            .bind(&r.session_id)
            .bind(&r.meeting_id)
            .bind(&r.participant_id)
            .bind(&r.custom_participant_id)
            .bind(&r.display_name)
            .bind(&r.preset_name)
            .bind(&r.device)
            .bind(r.joined_at)
            .bind(r.left_at)
            .bind(r.last_seen_at)
            .bind(&r.leave_reason)
            .bind(if r.connected { 1i64 } else { 0i64 })
            .bind(&r.node_id)
            .bind(r.created_at)
            .bind(r.updated_at)
            .bind(r.dropped_at)
            .execute(&mut *tx)
            .await?;
        }
        let mut counts: std::collections::BTreeMap<&str, i64> = Default::default();
        for c in &rows.chat {
            *counts.entry(c.session_id.as_str()).or_default() += 1;
            sqlx::query(
                "INSERT INTO chat_messages (id, session_id, peer_id, participant_id, display_name, message, sent_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&c.id)
            .bind(&c.session_id)
            .bind(&c.peer_id)
            .bind(&c.participant_id)
            .bind(&c.display_name)
            .bind(&c.message)
            .bind(c.sent_at)
            .execute(&mut *tx)
            .await?;
        }
        for (sid, n) in counts {
            // Chat goes only into sessions imported in this same call (validated by the
            // caller), so the counter row is new.
            sqlx::query("INSERT INTO chat_counters (session_id, messages) VALUES ($1, $2)")
                .bind(sid)
                .bind(n)
                .execute(&mut *tx)
                .await?;
        }
        // Imported sessions are new ids: the session cache holds none of them, so nothing there
        // needs updating (a read fills it).
        w.commit().await
    }
}
