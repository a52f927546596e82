use reqwest::Method;
use rtk_api::webhooks::{Delivery, Webhook};

use super::NONE;
use crate::client::{KitPath, Response};
use crate::params::{AccountParams, DeliveryListParams, EditWebhookParams, WebhookParams};
use crate::{Client, Error};

/// Webhooks: `/accounts/{account_id}/realtime/kit/{app_id}/webhooks`, and rtk's delivery log
/// (`/_rtk/accounts/{account_id}/apps/{app_id}/webhooks/{webhook_id}/deliveries`, an rtk
/// extension that Cloudflare does not serve).
#[derive(Debug, Clone, Copy)]
pub struct Webhooks<'a> {
    pub(crate) client: &'a Client,
}

fn webhooks(account_id: &str, app_id: &str) -> Result<KitPath, Error> {
    Ok(KitPath::app(account_id, app_id)?.lit("webhooks"))
}

fn deliveries(account_id: &str, app_id: &str, webhook_id: &str) -> Result<KitPath, Error> {
    Ok(KitPath::rtk_app(account_id, app_id)?.lit("webhooks").id("webhook_id", webhook_id)?.lit("deliveries"))
}

impl Webhooks<'_> {
    /// Subscribes `url` to `events` (`201`).
    pub async fn create_webhook(
        &self,
        app_id: &str,
        params: &WebhookParams,
    ) -> Result<Response<Webhook>, Error> {
        let path = webhooks(&params.account_id, app_id)?;
        self.client.request(Method::POST, path, NONE, Some(params)).await
    }

    /// Every webhook of the app, oldest first (the API has no paging here).
    pub async fn get_webhooks(
        &self,
        app_id: &str,
        params: &AccountParams,
    ) -> Result<Response<Vec<Webhook>>, Error> {
        let path = webhooks(&params.account_id, app_id)?;
        self.client.request(Method::GET, path, NONE, NONE).await
    }

    /// One webhook.
    pub async fn get_webhook_by_id(
        &self,
        app_id: &str,
        webhook_id: &str,
        params: &AccountParams,
    ) -> Result<Response<Webhook>, Error> {
        let path = webhooks(&params.account_id, app_id)?.id("webhook_id", webhook_id)?;
        self.client.request(Method::GET, path, NONE, NONE).await
    }

    /// Replaces the webhook (`PUT`; an unset `enabled` becomes true).
    pub async fn replace_webhook(
        &self,
        app_id: &str,
        webhook_id: &str,
        params: &WebhookParams,
    ) -> Result<Response<Webhook>, Error> {
        let path = webhooks(&params.account_id, app_id)?.id("webhook_id", webhook_id)?;
        self.client.request(Method::PUT, path, NONE, Some(params)).await
    }

    /// Changes the fields that are set (`PATCH`).
    pub async fn edit_webhook(
        &self,
        app_id: &str,
        webhook_id: &str,
        params: &EditWebhookParams,
    ) -> Result<Response<Webhook>, Error> {
        let path = webhooks(&params.account_id, app_id)?.id("webhook_id", webhook_id)?;
        self.client.request(Method::PATCH, path, NONE, Some(params)).await
    }

    /// Deletes the webhook (its pending deliveries are cancelled); the response holds it as it was.
    pub async fn delete_webhook(
        &self,
        app_id: &str,
        webhook_id: &str,
        params: &AccountParams,
    ) -> Result<Response<Webhook>, Error> {
        let path = webhooks(&params.account_id, app_id)?.id("webhook_id", webhook_id)?;
        self.client.request(Method::DELETE, path, NONE, NONE).await
    }

    /// rtk extension: the webhook's deliveries, newest first, each with its attempts.
    pub async fn deliveries(
        &self,
        app_id: &str,
        webhook_id: &str,
        params: &DeliveryListParams,
    ) -> Result<Response<Vec<Delivery>>, Error> {
        let path = deliveries(&params.account_id, app_id, webhook_id)?;
        self.client.request(Method::GET, path, Some(params), NONE).await
    }

    /// rtk extension: one delivery (`delivery_id` is its `rtk-uuid`).
    pub async fn delivery(
        &self,
        app_id: &str,
        webhook_id: &str,
        delivery_id: &str,
        params: &AccountParams,
    ) -> Result<Response<Delivery>, Error> {
        let path = deliveries(&params.account_id, app_id, webhook_id)?.id("delivery_id", delivery_id)?;
        self.client.request(Method::GET, path, NONE, NONE).await
    }

    /// rtk extension: puts a delivered or failed delivery back in the outbox, due now, with
    /// the same `rtk-uuid` and body (409 for one still pending or cancelled).
    pub async fn redeliver(
        &self,
        app_id: &str,
        webhook_id: &str,
        delivery_id: &str,
        params: &AccountParams,
    ) -> Result<Response<Delivery>, Error> {
        let path = deliveries(&params.account_id, app_id, webhook_id)?
            .id("delivery_id", delivery_id)?
            .lit("redeliver");
        self.client.request(Method::POST, path, NONE, NONE).await
    }
}
