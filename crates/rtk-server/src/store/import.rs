//! Whole-store dump and import (fixtures: `rtk import`, `rtk export`, `rtk serve --fixtures`).
//!
//! The store only moves rows here: the fixtures module (`crate::fixtures`) owns the file
//! format, validation and the session aggregates. A dump reads every table in a fixed order;
//! an import inserts rows that are all new, in one transaction (nothing is written if any
//! insert fails).

use super::db::{params, FromRow, Row};
use super::peers::PEER_COLS;
use super::sessions::{next_seqs, SESSION_COLS};
use super::{AccountRow, ChatRow, MeetingRow, ParticipantRow, PeerRow, PresetRow, SessionRow, Store};
use super::{AppRow, StoreResult, TokenRow, WebhookRow};

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
    pub webhooks: Vec<WebhookRow>,
    pub recordings: Vec<super::RecordingRow>,
}

impl FromRow for AccountRow {
    fn from_row(r: &Row<'_>) -> StoreResult<Self> {
        Ok(AccountRow { id: r.get(0)?, created_at: r.get(1)? })
    }
}

/// A token row (its columns in `TokenRow` order) followed by its stored hash.
struct TokenWithHash(TokenRow, String);

impl FromRow for TokenWithHash {
    fn from_row(r: &Row<'_>) -> StoreResult<Self> {
        Ok(TokenWithHash(TokenRow::from_row(r)?, r.get(6)?))
    }
}

impl Store {
    /// Reads every account, token, app, preset, meeting, participant, session, peer, chat
    /// message and webhook: each kind ordered by `created_at, id` (sessions by `started_at, id`, peers by
    /// `joined_at, id`, chat by `sent_at, id`).
    pub async fn dump(&self) -> StoreResult<Dump> {
        let db = self.db();
        let accounts = db.rows("SELECT id, created_at FROM accounts ORDER BY created_at, id", &[]).await?;
        let tokens: Vec<TokenWithHash> = db
            .rows(
                "SELECT id, account_id, name, email, created_at, revoked_at, token_hash FROM api_tokens \
                 ORDER BY created_at, id",
                &[],
            )
            .await?;
        let apps =
            db.rows("SELECT id, account_id, name, created_at FROM apps ORDER BY created_at, id", &[]).await?;
        let presets = db
            .rows(
                "SELECT id, app_id, name, body, created_at, updated_at FROM presets ORDER BY created_at, id",
                &[],
            )
            .await?;
        let meetings = db
            .rows(
                "SELECT id, app_id, title, status, keep_alive_secs, body, parent_meeting_id, created_at, updated_at \
                 FROM meetings ORDER BY created_at, id",
                &[],
            )
            .await?;
        let participants = db
            .rows(
                "SELECT id, meeting_id, app_id, custom_participant_id, preset_id, preset_name, name, picture, \
                 created_at, updated_at FROM participants ORDER BY created_at, id",
                &[],
            )
            .await?;
        let sessions =
            db.rows(&format!("SELECT {SESSION_COLS} FROM sessions ORDER BY started_at, id"), &[]).await?;
        let peers = db.rows(&format!("SELECT {PEER_COLS} FROM peers ORDER BY joined_at, id"), &[]).await?;
        let chat = db
            .rows(
                "SELECT id, session_id, peer_id, participant_id, display_name, message, sent_at FROM chat_messages \
                 ORDER BY sent_at, id",
                &[],
            )
            .await?;
        let webhooks = db
            .rows(&format!("SELECT {} FROM webhooks ORDER BY created_at, id", super::webhooks::COLS), &[])
            .await?;
        let recordings = db
            .rows(
                &format!(
                    "SELECT {} FROM recordings ORDER BY invoked_at, id",
                    super::recordings::RECORDING_COLS
                ),
                &[],
            )
            .await?;
        Ok(Dump {
            recordings,
            webhooks,
            accounts,
            tokens: tokens.into_iter().map(|TokenWithHash(t, h)| (t, h)).collect(),
            apps,
            presets,
            meetings,
            participants,
            sessions,
            peers,
            chat,
        })
    }

    /// Inserts rows that are all new, parents before children, in one transaction. Sessions
    /// get their `seq` here (their app's next numbers, in the order given); each session's
    /// chat count is set from the messages given. Any failure (a row that exists meanwhile,
    /// a constraint) rolls everything back.
    pub async fn import_rows(&self, rows: &Dump) -> StoreResult<()> {
        let mut w = self.write().await?;
        for a in &rows.accounts {
            w.execute("INSERT INTO accounts (id, created_at) VALUES ($1, $2)", params![&a.id, a.created_at])
                .await?;
        }
        for (t, hash) in &rows.tokens {
            w.execute(
                "INSERT INTO api_tokens (id, account_id, name, email, token_hash, created_at, revoked_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                params![&t.id, &t.account_id, &t.name, &t.email, hash, t.created_at, t.revoked_at],
            )
            .await?;
        }
        for a in &rows.apps {
            w.execute(
                "INSERT INTO apps (id, account_id, name, created_at) VALUES ($1, $2, $3, $4)",
                params![&a.id, &a.account_id, &a.name, a.created_at],
            )
            .await?;
        }
        for p in &rows.presets {
            w.execute(
                "INSERT INTO presets (id, app_id, name, body, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)",
                params![&p.id, &p.app_id, &p.name, &p.body, p.created_at, p.updated_at],
            )
            .await?;
        }
        for m in &rows.meetings {
            let title_lc = m.title.as_ref().map(|t| t.to_lowercase());
            let (sql, ps) = super::meetings::insert_sql(m, &title_lc);
            w.execute(&sql, &ps).await?;
        }
        for p in &rows.participants {
            w.execute(
                "INSERT INTO participants (id, meeting_id, app_id, custom_participant_id, preset_id, preset_name, \
                 name, picture, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                params![
                    &p.id,
                    &p.meeting_id,
                    &p.app_id,
                    &p.custom_participant_id,
                    &p.preset_id,
                    &p.preset_name,
                    &p.name,
                    &p.picture,
                    p.created_at,
                    p.updated_at
                ],
            )
            .await?;
        }
        let session_sql = format!(
            "INSERT INTO sessions ({SESSION_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
             $13, $14, $15, $16, $17, $18, $19, $20, $21)"
        );
        for s in &rows.sessions {
            let seq = next_seqs(&mut w, &s.app_id, 1).await?;
            let mut ps = s.params();
            ps[2] = seq.into();
            w.execute(&session_sql, &ps).await?;
            super::analytics::imported_session_in(&mut w, s).await?;
        }
        let peer_sql = format!(
            "INSERT INTO peers ({PEER_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
             $14, $15, $16, $17)"
        );
        for r in &rows.peers {
            w.execute(&peer_sql, &r.params()).await?;
        }
        let mut counts: std::collections::BTreeMap<&str, i64> = Default::default();
        for c in &rows.chat {
            *counts.entry(c.session_id.as_str()).or_default() += 1;
            w.execute(
                "INSERT INTO chat_messages (id, session_id, peer_id, participant_id, display_name, message, sent_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                params![
                    &c.id,
                    &c.session_id,
                    &c.peer_id,
                    &c.participant_id,
                    &c.display_name,
                    &c.message,
                    c.sent_at
                ],
            )
            .await?;
        }
        for (sid, n) in counts {
            // Chat goes only into sessions imported in this same call (validated by the
            // caller), so the counter row is new.
            w.execute("INSERT INTO chat_counters (session_id, messages) VALUES ($1, $2)", params![sid, n])
                .await?;
        }
        for h in &rows.webhooks {
            super::webhooks::insert_webhook_in(&mut w, h).await?;
        }
        // Recordings go only into sessions imported in this same call (stopped, UPLOADING: the
        // recorder writes their files from the imported timeline); then those sessions' meta.
        let mut recorded: std::collections::BTreeSet<&str> = Default::default();
        for r in &rows.recordings {
            super::recordings::import_in(&mut w, r).await?;
            if let Some(sid) = &r.session_id {
                recorded.insert(sid.as_str());
            }
        }
        for sid in recorded {
            super::recordings::refresh_meta_in(&mut w, sid).await?;
        }
        // Imported sessions are new ids: the session cache holds none of them, so nothing there
        // needs updating (a read fills it).
        w.commit().await
    }
}
