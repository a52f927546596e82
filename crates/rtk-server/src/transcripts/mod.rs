//! Transcripts and summaries (docs/transcripts.md): the formats a transcript downloads as, the
//! signed links behind them, and the summarisers — a built-in extractive one, honest about
//! being extractive, or a command the operator configures.

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::clock::{rfc3339, Millis};
use crate::export::{csv_field, cue_time, srt_text, vtt_text};
use crate::store::SegmentRow;
use crate::tokens::Expiring;

/// The most segments one session holds.
pub const MAX_SEGMENTS: i64 = 20_000;
/// The most characters of one segment's text.
pub const MAX_SEGMENT_CHARS: usize = 4_000;
/// How long a transcript or summary download link stays valid.
pub const LINK_TTL_SECS: i64 = 3600;

/// A transcript's download formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Format {
    #[serde(rename = "SRT")]
    Srt,
    #[serde(rename = "VTT")]
    Vtt,
    #[serde(rename = "JSON")]
    Json,
    #[serde(rename = "CSV")]
    Csv,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s.trim().to_ascii_uppercase().as_str() {
            "SRT" => Some(Format::Srt),
            "VTT" => Some(Format::Vtt),
            "JSON" => Some(Format::Json),
            "CSV" => Some(Format::Csv),
            _ => None,
        }
    }

    /// Every format, in the order the API lists them.
    pub const ALL: [Format; 4] = [Format::Srt, Format::Vtt, Format::Json, Format::Csv];

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Srt => "application/x-subrip; charset=utf-8",
            Format::Vtt => "text/vtt; charset=utf-8",
            Format::Json => "application/json",
            Format::Csv => "text/csv; charset=utf-8",
        }
    }
}

/// Claims of a transcript or summary link.
#[derive(Debug, Serialize, Deserialize)]
pub struct LinkClaims {
    /// `transcript` or `summary`.
    pub typ: String,
    pub session_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Format>,
    pub exp: i64,
}

impl Expiring for LinkClaims {
    fn exp(&self) -> i64 {
        self.exp
    }
}

/// A signed link to a session's transcript (`typ` `transcript`, in `format`) or summary
/// (`summary`), valid until `exp` (Unix seconds); with its expiry in milliseconds.
pub fn link(
    keys: &crate::tokens::KeyRing,
    base: &str,
    typ: &str,
    session_id: &str,
    format: Option<Format>,
    exp: i64,
) -> Option<(String, Millis)> {
    let claims = LinkClaims { typ: typ.into(), session_id: session_id.into(), format, exp };
    match keys.sign_loaded(&claims) {
        Ok(t) => {
            let dir = if typ == "summary" { "summaries" } else { "transcripts" };
            Some((format!("{base}/{dir}/{t}"), exp * 1000))
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot sign a {typ} link");
            None
        }
    }
}

/// Makes and runs summaries: a job per session (`POST …/summary`, or `summarize_on_end`).
#[derive(Clone)]
pub struct Summaries {
    pub store: crate::store::Store,
    pub clock: crate::clock::SharedClock,
    pub keys: crate::tokens::KeyRing,
    /// The public base URL.
    pub base: String,
    pub summarizer: Summarizer,
    /// How long the link `meeting.summary` carries stays valid.
    pub webhook_ttl_secs: i64,
}

impl std::fmt::Debug for Summaries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Summaries").field("summarizer", &self.summarizer).finish_non_exhaustive()
    }
}

impl Summaries {
    /// Starts a summary job for `session` (replacing any earlier summary): the built-in
    /// summariser runs before this returns, a command in the background. The summary as it
    /// stands when this returns.
    pub async fn start(
        &self,
        session: &crate::store::SessionRow,
    ) -> crate::store::StoreResult<crate::store::SummaryRow> {
        self.store.summary_started(&session.id, &session.app_id, self.clock.now()).await?;
        let job = self.clone();
        let s = session.clone();
        match self.summarizer {
            Summarizer::Extractive => job.run(&s).await?,
            Summarizer::Command { .. } => {
                tokio::spawn(async move {
                    if let Err(e) = job.run(&s).await {
                        tracing::error!(session_id = %s.id, error = %e, "the summary could not be recorded");
                    }
                });
            }
        }
        let row = self.store.summary(&session.id).await?;
        row.ok_or_else(|| {
            crate::store::StoreError::NotFound(format!("no summary for session {}", session.id))
        })
    }

    async fn run(&self, s: &crate::store::SessionRow) -> crate::store::StoreResult<()> {
        let segs = self.store.segments(&s.id).await?;
        let method = self.summarizer.method();
        let out = if segs.is_empty() {
            Err("the session has no transcript to summarise".to_string())
        } else {
            self.summarizer.summarize(&s.id, s.started_at, &segs).await
        };
        let now = self.clock.now();
        let exp = now / 1000 + self.webhook_ttl_secs;
        let link = link(&self.keys, &self.base, "summary", &s.id, None, exp);
        match &out {
            Ok(body) => {
                let l = link.as_ref().map(|(u, e)| (u.as_str(), *e));
                self.store.summary_done(&s.id, method, Ok(body), l, now).await?;
            }
            Err(e) => {
                tracing::warn!(session_id = %s.id, error = %e, "summary failed");
                self.store.summary_done(&s.id, method, Err(e), None, now).await?;
            }
        }
        Ok(())
    }
}

/// The transcript of a session that started at `origin`, in `format`. Times in SRT and VTT
/// are offsets from the session's start.
pub fn render(session_id: &str, origin: Millis, segs: &[SegmentRow], format: Format) -> String {
    let off = |t: Millis| t - origin;
    match format {
        Format::Srt => {
            let mut out = String::new();
            for (i, s) in segs.iter().enumerate() {
                out.push_str(&format!(
                    "{}\n{} --> {}\n{}: {}\n\n",
                    i + 1,
                    cue_time(off(s.start_at), ','),
                    cue_time(off(s.end_at), ','),
                    srt_text(&s.speaker),
                    srt_text(&s.text)
                ));
            }
            out
        }
        Format::Vtt => {
            let mut out = String::from("WEBVTT\n\n");
            for (i, s) in segs.iter().enumerate() {
                out.push_str(&format!(
                    "{}\n{} --> {}\n<v {}>{}\n\n",
                    i + 1,
                    cue_time(off(s.start_at), '.'),
                    cue_time(off(s.end_at), '.'),
                    vtt_text(&s.speaker),
                    vtt_text(&s.text)
                ));
            }
            out
        }
        Format::Json => json!({
            "session_id": session_id,
            "segments": segs.iter().map(|s| json!({
                "id": s.id,
                "speaker": s.speaker,
                "peer_id": s.peer_id,
                "participant_id": s.participant_id,
                "start": rfc3339(s.start_at),
                "end": rfc3339(s.end_at),
                "start_offset_ms": off(s.start_at),
                "end_offset_ms": off(s.end_at),
                "text": s.text,
            })).collect::<Vec<_>>(),
        })
        .to_string(),
        Format::Csv => {
            let mut out = String::from("id,start,end,speaker,peer_id,participant_id,text\n");
            for s in segs {
                out.push_str(&format!(
                    "{},{},{},{},{},{},{}\n",
                    csv_field(&s.id),
                    rfc3339(s.start_at),
                    rfc3339(s.end_at),
                    csv_field(&s.speaker),
                    csv_field(s.peer_id.as_deref().unwrap_or("")),
                    csv_field(s.participant_id.as_deref().unwrap_or("")),
                    csv_field(&s.text)
                ));
            }
            out
        }
    }
}

/// Words too common to say what a meeting was about (the extractive summariser skips them).
const STOPWORDS: &[&str] = &[
    "the", "and", "that", "this", "with", "for", "are", "was", "were", "you", "your", "have", "has", "had",
    "but", "not", "they", "them", "then", "there", "their", "what", "when", "which", "will", "would", "can",
    "could", "should", "about", "into", "from", "our", "we", "i", "it", "its", "is", "be", "to", "of", "in",
    "on", "a", "an", "so", "do", "did", "just", "also", "all", "any", "some", "if", "or", "as", "at", "by",
    "me", "my", "he", "she", "his", "her", "him", "us", "yes", "no", "okay", "ok", "yeah", "um", "uh",
];

fn words(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split(|c: char| !c.is_alphanumeric() && c != '\'')
        .map(|w| w.trim_matches('\'').to_lowercase())
        .filter(|w| w.chars().count() >= 3 && !STOPWORDS.contains(&w.as_str()))
}

/// How many key sentences the extractive summary lists.
pub const KEY_SENTENCES: usize = 5;

/// The built-in summary: extractive, never generative. Markdown with the speakers (talk time
/// and segments each, most first), then up to [`KEY_SENTENCES`] key sentences: sentences of the
/// transcript scored by the mean corpus frequency of their content words (words of 3+ letters,
/// stopwords removed), the best ones, shown in the order they were said.
pub fn extractive_summary(segs: &[SegmentRow]) -> String {
    let mut talk: Vec<(String, i64, usize)> = vec![];
    for s in segs {
        match talk.iter_mut().find(|(n, ..)| *n == s.speaker) {
            Some(t) => {
                t.1 += s.end_at - s.start_at;
                t.2 += 1;
            }
            None => talk.push((s.speaker.clone(), s.end_at - s.start_at, 1)),
        }
    }
    talk.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut freq: HashMap<String, usize> = HashMap::new();
    for s in segs {
        for w in words(&s.text) {
            *freq.entry(w).or_default() += 1;
        }
    }
    // Sentences in order: (position, speaker, text, score).
    let mut sentences: Vec<(usize, &str, String, f64)> = vec![];
    for s in segs {
        for sentence in s.text.split_inclusive(['.', '!', '?']).map(str::trim).filter(|t| !t.is_empty()) {
            let ws: Vec<String> = words(sentence).collect();
            if ws.is_empty() {
                continue;
            }
            let score =
                ws.iter().map(|w| freq.get(w).copied().unwrap_or(0) as f64).sum::<f64>() / ws.len() as f64;
            sentences.push((sentences.len(), s.speaker.as_str(), sentence.to_string(), score));
        }
    }
    let mut best: Vec<&(usize, &str, String, f64)> = sentences.iter().collect();
    best.sort_by(|a, b| b.3.total_cmp(&a.3).then(a.0.cmp(&b.0)));
    best.truncate(KEY_SENTENCES);
    best.sort_by_key(|s| s.0);
    let mut out = String::from("# Summary\n\n_Extractive: sentences chosen from the transcript, not written by a model._\n\n## Speakers\n\n");
    for (name, ms, n) in &talk {
        out.push_str(&format!(
            "- {}: {:.1} min in {n} segment{}\n",
            srt_text(name),
            *ms as f64 / 60_000.0,
            if *n == 1 { "" } else { "s" }
        ));
    }
    out.push_str("\n## Key sentences\n\n");
    for (_, who, text, _) in best {
        out.push_str(&format!("- {}: {}\n", srt_text(who), srt_text(text)));
    }
    out
}

/// How a summary is made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Summarizer {
    /// [`extractive_summary`].
    #[default]
    Extractive,
    /// A program: the transcript (JSON) on its stdin, the summary on its stdout, killed after
    /// `timeout`; a non-zero exit or a timeout fails the summary.
    Command { argv: Vec<String>, timeout: Duration },
}

impl Summarizer {
    pub fn method(&self) -> &'static str {
        match self {
            Summarizer::Extractive => "extractive",
            Summarizer::Command { .. } => "command",
        }
    }

    /// The summary of `segs` (the transcript of `session_id`, started at `origin`).
    pub async fn summarize(
        &self,
        session_id: &str,
        origin: Millis,
        segs: &[SegmentRow],
    ) -> Result<String, String> {
        match self {
            Summarizer::Extractive => Ok(extractive_summary(segs)),
            Summarizer::Command { argv, timeout } => {
                use tokio::io::AsyncWriteExt;
                let (prog, args) = argv.split_first().ok_or("the summariser command is empty")?;
                let mut child = tokio::process::Command::new(prog)
                    .args(args)
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .kill_on_drop(true)
                    .spawn()
                    .map_err(|e| format!("cannot run the summariser {prog:?}: {e}"))?;
                let input = render(session_id, origin, segs, Format::Json);
                let mut stdin = child.stdin.take().ok_or("no stdin")?;
                let run = async move {
                    // A summariser that exits without reading its input is not a failure here.
                    let _ = stdin.write_all(input.as_bytes()).await;
                    drop(stdin);
                    child.wait_with_output().await
                };
                let out = match tokio::time::timeout(*timeout, run).await {
                    Err(_) => return Err(format!("the summariser did not finish within {timeout:?}")),
                    Ok(Err(e)) => return Err(format!("the summariser failed: {e}")),
                    Ok(Ok(o)) => o,
                };
                if !out.status.success() {
                    let err = String::from_utf8_lossy(&out.stderr);
                    return Err(format!("the summariser exited with {}: {}", out.status, err.trim()));
                }
                String::from_utf8(out.stdout).map_err(|_| "the summariser's output is not UTF-8".to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(id: &str, who: &str, text: &str, a: Millis, b: Millis) -> SegmentRow {
        SegmentRow {
            id: id.into(),
            session_id: "s".into(),
            peer_id: None,
            participant_id: None,
            speaker: who.into(),
            text: text.into(),
            start_at: a,
            end_at: b,
            source: "api".into(),
            created_at: b,
        }
    }

    #[tokio::test]
    async fn a_slow_command_is_cut_off() {
        let slow = Summarizer::Command {
            argv: vec!["sh".into(), "-c".into(), "sleep 5".into()],
            timeout: Duration::from_millis(200),
        };
        let e = slow.summarize("s", 0, &[seg("1", "A", "x", 0, 1)]).await.unwrap_err();
        assert!(e.contains("did not finish within"), "{e}");
        let missing = Summarizer::Command {
            argv: vec!["/nonexistent/rtk-sum".into()],
            timeout: Duration::from_secs(1),
        };
        assert!(missing.summarize("s", 0, &[]).await.unwrap_err().contains("cannot run"));
    }

    #[test]
    fn srt_and_vtt_timings() {
        let segs = [
            seg("1", "Ada", "Hello <all>", 1_500, 3_000),
            seg("2", "Bo", "line\nbreak --> x", 61_000, 62_250),
        ];
        let srt = render("s", 0, &segs, Format::Srt);
        assert_eq!(srt, "1\n00:00:01,500 --> 00:00:03,000\nAda: Hello <all>\n\n2\n00:01:01,000 --> 00:01:02,250\nBo: line break -> x\n\n");
        let vtt = render("s", 0, &segs, Format::Vtt);
        assert!(
            vtt.starts_with("WEBVTT\n\n1\n00:00:01.500 --> 00:00:03.000\n<v Ada>Hello &lt;all&gt;\n\n"),
            "{vtt}"
        );
    }

    #[test]
    fn extractive_summary_counts_talk_and_picks_sentences() {
        let segs = [
            seg("1", "Ada", "The budget review is due Friday. Lunch was nice.", 0, 60_000),
            seg("2", "Bo", "I will send the budget numbers before the review.", 60_000, 90_000),
            seg("3", "Ada", "Budget review first, then hiring.", 90_000, 120_000),
        ];
        let s = extractive_summary(&segs);
        assert!(s.contains("- Ada: 1.5 min in 2 segments\n- Bo: 0.5 min in 1 segment\n"), "{s}");
        assert!(s.contains("Extractive"), "{s}");
        let key = &s[s.find("## Key sentences").unwrap()..];
        assert!(key.contains("Budget review first") && key.contains("budget review is due"), "{s}");
    }
}
