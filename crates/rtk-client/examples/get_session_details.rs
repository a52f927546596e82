//! The seed's Go example in Rust: the details of one session.
//!
//! Go:
//!
//! ```go
//! response, err := client.RealtimeKit.Sessions.GetSessionDetails(ctx, appID, sessionID,
//!     realtime_kit.SessionGetSessionDetailsParams{AccountID: cloudflare.F(accountID),
//!         IncludeBreakoutRooms: cloudflare.F(true)})
//! ```
//!
//! Run it against a local rtk (`cargo run -p rtk-cli -- serve` in another terminal, then get a
//! session going, e.g. with `rtk simulate --meetings 1 --participants 2 --duration 60s`):
//!
//! ```sh
//! # account and token: from ./rtk-data/credentials.json when not set
//! export RTK_BASE_URL=http://127.0.0.1:8787/client/v4
//! export RTK_ACCOUNT_ID=…  RTK_API_TOKEN=…
//! cargo run -p rtk-client --example get_session_details -- APP_ID SESSION_ID
//! ```
//!
//! Against Cloudflare: set `CLOUDFLARE_BASE_URL` (or leave it unset for the default),
//! `CLOUDFLARE_API_TOKEN` and `RTK_ACCOUNT_ID` (or `CLOUDFLARE_ACCOUNT_ID`). The app and
//! session ids may also come from `RTK_APP_ID` and `RTK_SESSION_ID`.

use std::process::ExitCode;

use rtk_client::params::GetSessionDetailsParams;
use rtk_client::{Client, ClientBuilder};

/// `./rtk-data/credentials.json`, written by `rtk serve` on its first start.
fn local_credentials() -> Option<(String, String)> {
    let text = std::fs::read_to_string("rtk-data/credentials.json").ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    Some((v["account_id"].as_str()?.to_string(), v["api_token"].as_str()?.to_string()))
}

fn var(names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()))
}

fn client_and_account() -> Result<(Client, String), String> {
    let local = local_credentials();
    let mut builder = ClientBuilder::from_env();
    if var(&["RTK_BASE_URL", "CLOUDFLARE_BASE_URL"]).is_none() {
        builder = builder.base_url("http://127.0.0.1:8787/client/v4");
    }
    if var(&["RTK_API_TOKEN", "CLOUDFLARE_API_TOKEN", "CLOUDFLARE_API_KEY"]).is_none() {
        let (_, token) = local.as_ref().ok_or("set RTK_API_TOKEN (no ./rtk-data/credentials.json here)")?;
        builder = builder.api_token(token);
    }
    let account = var(&["RTK_ACCOUNT_ID", "CLOUDFLARE_ACCOUNT_ID"])
        .or_else(|| local.map(|(a, _)| a))
        .ok_or("set RTK_ACCOUNT_ID (no ./rtk-data/credentials.json here)")?;
    Ok((builder.build().map_err(|e| e.to_string())?, account))
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let app_id = args.next().or_else(|| var(&["RTK_APP_ID"]));
    let session_id = args.next().or_else(|| var(&["RTK_SESSION_ID"]));
    let (Some(app_id), Some(session_id)) = (app_id, session_id) else {
        eprintln!("usage: get_session_details APP_ID SESSION_ID   (or set RTK_APP_ID and RTK_SESSION_ID)");
        return ExitCode::from(2);
    };
    let (client, account_id) = match client_and_account() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("get_session_details: {e}");
            return ExitCode::from(2);
        }
    };

    let response = client
        .realtime_kit()
        .sessions()
        .get_session_details(
            &app_id,
            &session_id,
            &GetSessionDetailsParams { account_id, include_breakout_rooms: Some(true) },
        )
        .await;

    match response {
        Ok(response) => {
            let s = &response.data.session;
            println!(
                "session {} of meeting {} ({}): {}, {} live, {} at most, {:.2} minutes",
                s.id,
                s.associated_id,
                s.meeting_display_name,
                s.status,
                s.live_participants,
                s.max_concurrent_participants,
                s.minutes_consumed
            );
            match serde_json::to_string_pretty(&response.data) {
                Ok(json) => println!("{json}"),
                Err(e) => eprintln!("cannot print the session: {e}"),
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("get_session_details: {e}");
            ExitCode::FAILURE
        }
    }
}
