use reqwest::Method;
use rtk_api::{App, AppCreated};

use super::NONE;
use crate::client::{KitPath, Response};
use crate::pagination::{paginate, Items};
use crate::params::{AppListParams, AppPostParams};
use crate::{Client, Error};

/// Apps: `/accounts/{account_id}/realtime/kit/apps`.
#[derive(Debug, Clone, Copy)]
pub struct Apps<'a> {
    pub(crate) client: &'a Client,
}

impl Apps<'_> {
    /// One page of the account's apps (oldest first unless `sort_order` is `DESC`).
    pub async fn get(&self, params: &AppListParams) -> Result<Response<Vec<App>>, Error> {
        let path = KitPath::new(&params.account_id)?.lit("apps");
        self.client.request(Method::GET, path, Some(params), NONE).await
    }

    /// Every app, page after page.
    pub fn get_auto_paging(&self, params: AppListParams) -> Items<App> {
        let client = self.client.clone();
        paginate(params, move |p: AppListParams| {
            let client = client.clone();
            async move {
                let r = client.realtime_kit().apps().get(&p).await?;
                Ok((r.data, r.paging))
            }
        })
    }

    /// Creates an app; `data.app` is the new app.
    pub async fn post(&self, params: &AppPostParams) -> Result<Response<AppCreated>, Error> {
        let path = KitPath::new(&params.account_id)?.lit("apps");
        self.client.request(Method::POST, path, NONE, Some(params)).await
    }
}
