//! `rtk webhooks …`: the app's webhooks (the RealtimeKit API) and rtk's delivery log (its
//! `/_rtk` extension): list, create, get, update, delete, deliveries, redeliver.

use clap::{Args, Subcommand};
use rtk_api::webhooks::{Delivery, Webhook};
use rtk_client::params::{AccountParams, DeliveryListParams, EditWebhookParams, WebhookParams};

use super::args::{ApiArgs, AppArg};
use super::output::{opt, Out, Table};

#[derive(Args, Debug)]
pub struct Webhooks {
    #[command(flatten)]
    api: ApiArgs,
    #[command(subcommand)]
    cmd: WebhooksCmd,
}

#[derive(Subcommand, Debug)]
enum WebhooksCmd {
    /// List the app's webhooks (oldest first).
    List {
        #[command(flatten)]
        app: AppArg,
    },
    /// Show a webhook.
    Get {
        #[command(flatten)]
        app: AppArg,
        id: String,
    },
    /// Subscribe a URL to events.
    Create {
        #[command(flatten)]
        app: AppArg,
        /// Its name.
        #[arg(long)]
        name: String,
        /// Where deliveries go (http:// or https://).
        #[arg(long)]
        url: String,
        /// Events, comma-separated or repeated: meeting.started, meeting.ended,
        /// meeting.participantJoined, meeting.participantLeft, meeting.chatSynced,
        /// recording.statusUpdate, livestreaming.statusUpdate, meeting.transcript, meeting.summary.
        #[arg(long, value_delimiter = ',', required = true)]
        events: Vec<String>,
        /// Create it disabled (it gets no events until enabled).
        #[arg(long)]
        disabled: bool,
    },
    /// Change a webhook: only the options given (PATCH).
    Update {
        #[command(flatten)]
        app: AppArg,
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        url: Option<String>,
        /// The new event list (replaces the old one), comma-separated or repeated.
        #[arg(long, value_delimiter = ',')]
        events: Option<Vec<String>>,
        /// true or false.
        #[arg(long)]
        enabled: Option<bool>,
    },
    /// Delete a webhook (its pending deliveries are cancelled).
    Delete {
        #[command(flatten)]
        app: AppArg,
        id: String,
    },
    /// rtk's delivery log of a webhook, newest first: each event's state and attempts.
    Deliveries {
        #[command(flatten)]
        app: AppArg,
        /// The webhook id.
        webhook_id: String,
        /// Only deliveries in this state.
        #[arg(long, value_parser = ["pending", "delivered", "failed", "cancelled"])]
        state: Option<String>,
        /// At most this many (1 to 500; the server's default is 50).
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Send a delivered or failed event again (same rtk-uuid, same body).
    Redeliver {
        #[command(flatten)]
        app: AppArg,
        /// The webhook id.
        webhook_id: String,
        /// The delivery id (its rtk-uuid).
        delivery_id: String,
    },
}

fn webhooks_table(items: &[Webhook]) -> Table {
    let mut t = Table::new(&["id", "name", "url", "enabled", "events"]);
    for w in items {
        t.row(vec![w.id.clone(), w.name.clone(), w.url.clone(), w.enabled.to_string(), w.events.join(",")]);
    }
    t
}

fn deliveries_table(items: &[Delivery]) -> Table {
    let mut t =
        Table::new(&["id", "event", "state", "attempts", "last_status", "created_at", "next_attempt_at"]);
    for d in items {
        t.row(vec![
            d.id.clone(),
            d.event.clone(),
            d.state.clone(),
            d.attempts.to_string(),
            d.last_status.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
            d.created_at.clone(),
            opt(&d.next_attempt_at),
        ]);
    }
    t
}

pub(super) async fn run(w: Webhooks) -> anyhow::Result<()> {
    let (client, acc) = w.api.connect()?;
    let out = Out { json: w.api.json };
    let hooks = client.realtime_kit().webhooks();
    let account = AccountParams::new(&acc);
    match w.cmd {
        WebhooksCmd::List { app } => {
            out.list(&hooks.get_webhooks(&app.app, &account).await?.data, webhooks_table)
        }
        WebhooksCmd::Get { app, id } => {
            out.one(&hooks.get_webhook_by_id(&app.app, &id, &account).await?.data)
        }
        WebhooksCmd::Create { app, name, url, events, disabled } => {
            let params = WebhookParams {
                name,
                url,
                events,
                enabled: disabled.then_some(false),
                ..WebhookParams::new(&acc)
            };
            out.one(&hooks.create_webhook(&app.app, &params).await?.data)
        }
        WebhooksCmd::Update { app, id, name, url, events, enabled } => {
            let params = EditWebhookParams { name, url, events, enabled, ..EditWebhookParams::new(&acc) };
            out.one(&hooks.edit_webhook(&app.app, &id, &params).await?.data)
        }
        WebhooksCmd::Delete { app, id } => {
            out.one(&hooks.delete_webhook(&app.app, &id, &account).await?.data)
        }
        WebhooksCmd::Deliveries { app, webhook_id, state, limit } => {
            let params = DeliveryListParams { state, limit, ..DeliveryListParams::new(&acc) };
            out.list(&hooks.deliveries(&app.app, &webhook_id, &params).await?.data, deliveries_table)
        }
        WebhooksCmd::Redeliver { app, webhook_id, delivery_id } => {
            let d = hooks.redeliver(&app.app, &webhook_id, &delivery_id, &account).await?.data;
            if out.json {
                return out.one(&d);
            }
            println!(
                "delivery {} of webhook {} is {} again (attempts so far: {})",
                d.id, d.webhook_id, d.state, d.attempts
            );
            Ok(())
        }
    }
}
