//! The arguments every resource command shares: where and as whom to call the API (with the
//! credentials `rtk serve` saved), which page, which app and meeting.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use rtk_client::Client;
use serde_json::Value;

/// Where and as whom to call the API, and how to print.
#[derive(Args, Clone, Debug)]
pub struct ApiArgs {
    /// The API base URL (rtk's, or Cloudflare's https://api.cloudflare.com/client/v4).
    #[arg(long, env = "RTK_BASE_URL", default_value = "http://127.0.0.1:8787", global = true)]
    pub base_url: String,
    /// The account id [default: from ./rtk-data/credentials.json].
    #[arg(long, env = "RTK_ACCOUNT_ID", global = true)]
    pub account: Option<String>,
    /// The API token [default: from ./rtk-data/credentials.json].
    #[arg(long, env = "RTK_API_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

/// The credentials `rtk serve` saved on its first start: `$RTK_DATA_DIR/credentials.json`,
/// else `./rtk-data/credentials.json`.
fn saved_credentials() -> Option<(PathBuf, Value)> {
    let dir = std::env::var_os("RTK_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(rtk_server::config::DEFAULT_DATA_DIR));
    let path = dir.join("credentials.json");
    let v = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    Some((path, v))
}

impl ApiArgs {
    /// The SDK client and the account id.
    pub fn connect(&self) -> anyhow::Result<(Client, String)> {
        let saved = if self.account.is_none() || self.token.is_none() { saved_credentials() } else { None };
        let from_file = |k: &str| saved.as_ref().and_then(|(_, v)| v[k].as_str().map(str::to_string));
        let account = self.account.clone().or_else(|| from_file("account_id")).context(
            "no account: pass --account, set RTK_ACCOUNT_ID, or run where ./rtk-data/credentials.json is",
        )?;
        let token = self.token.clone().or_else(|| from_file("api_token")).context(
            "no API token: pass --token, set RTK_API_TOKEN, or run where ./rtk-data/credentials.json is",
        )?;
        let client = Client::builder().base_url(self.base_url.trim()).api_token(token).build()?;
        Ok((client, account))
    }
}

/// A page to fetch; without `--page`, every page.
#[derive(Args, Clone, Debug)]
pub struct PageArgs {
    /// Fetch only this page (from 1).
    #[arg(long)]
    pub page: Option<u32>,
    /// Items per page (1 to 100).
    #[arg(long)]
    pub per_page: Option<u32>,
}

/// The app (every resource below apps belongs to one).
#[derive(Args, Clone, Debug)]
pub struct AppArg {
    /// The app id.
    #[arg(long, env = "RTK_APP_ID")]
    pub app: String,
}

/// The meeting.
#[derive(Args, Clone, Debug)]
pub struct MeetingArg {
    #[command(flatten)]
    pub app: AppArg,
    /// The meeting id.
    #[arg(long, env = "RTK_MEETING_ID")]
    pub meeting: String,
}
