use reqwest::Method;
use rtk_api::presets::{Preset, PresetSummary};

use super::NONE;
use crate::client::{KitPath, Response};
use crate::pagination::{paginate, Items};
use crate::params::{AccountParams, PresetListParams, PresetParams};
use crate::{Client, Error};

/// Presets: `/accounts/{account_id}/realtime/kit/{app_id}/presets`.
#[derive(Debug, Clone, Copy)]
pub struct Presets<'a> {
    pub(crate) client: &'a Client,
}

fn presets(account_id: &str, app_id: &str) -> Result<KitPath, Error> {
    Ok(KitPath::app(account_id, app_id)?.lit("presets"))
}

impl Presets<'_> {
    /// Creates a preset from a whole document (`name`, `config`, `permissions`, `ui`).
    pub async fn create(&self, app_id: &str, params: &PresetParams) -> Result<Response<Preset>, Error> {
        let path = presets(&params.account_id, app_id)?;
        self.client.request(Method::POST, path, NONE, Some(params)).await
    }

    /// One page of the app's presets (id, name and timestamps).
    pub async fn get(
        &self,
        app_id: &str,
        params: &PresetListParams,
    ) -> Result<Response<Vec<PresetSummary>>, Error> {
        let path = presets(&params.account_id, app_id)?;
        self.client.request(Method::GET, path, Some(params), NONE).await
    }

    /// Every preset of the app, page after page.
    pub fn get_auto_paging(&self, app_id: &str, params: PresetListParams) -> Items<PresetSummary> {
        let (client, app_id) = (self.client.clone(), app_id.to_string());
        paginate(params, move |p: PresetListParams| {
            let (client, app_id) = (client.clone(), app_id.clone());
            async move {
                let r = client.realtime_kit().presets().get(&app_id, &p).await?;
                Ok((r.data, r.paging))
            }
        })
    }

    /// The whole preset.
    pub async fn get_preset_by_id(
        &self,
        app_id: &str,
        preset_id: &str,
        params: &AccountParams,
    ) -> Result<Response<Preset>, Error> {
        let path = presets(&params.account_id, app_id)?.id("preset_id", preset_id)?;
        self.client.request(Method::GET, path, NONE, NONE).await
    }

    /// Merges the fields that are set into the preset (`PATCH`).
    pub async fn update(
        &self,
        app_id: &str,
        preset_id: &str,
        params: &PresetParams,
    ) -> Result<Response<Preset>, Error> {
        let path = presets(&params.account_id, app_id)?.id("preset_id", preset_id)?;
        self.client.request(Method::PATCH, path, NONE, Some(params)).await
    }

    /// Replaces the preset with a whole document (`PUT`).
    pub async fn replace(
        &self,
        app_id: &str,
        preset_id: &str,
        params: &PresetParams,
    ) -> Result<Response<Preset>, Error> {
        let path = presets(&params.account_id, app_id)?.id("preset_id", preset_id)?;
        self.client.request(Method::PUT, path, NONE, Some(params)).await
    }

    /// Deletes the preset; the response holds it as it was.
    pub async fn delete(
        &self,
        app_id: &str,
        preset_id: &str,
        params: &AccountParams,
    ) -> Result<Response<Preset>, Error> {
        let path = presets(&params.account_id, app_id)?.id("preset_id", preset_id)?;
        self.client.request(Method::DELETE, path, NONE, NONE).await
    }
}
