use reqwest::Method;
use rtk_api::analytics::DaywiseAnalytics;

use super::NONE;
use crate::client::{KitPath, Response};
use crate::params::AnalyticsParams;
use crate::{Client, Error};

/// Analytics: `/accounts/{account_id}/realtime/kit/{app_id}/analytics/daywise`.
#[derive(Debug, Clone, Copy)]
pub struct Analytics<'a> {
    pub(crate) client: &'a Client,
}

impl Analytics<'_> {
    /// Sessions and recordings per UTC day (default: the last 30 days).
    pub async fn get_org_analytics(
        &self,
        app_id: &str,
        params: &AnalyticsParams,
    ) -> Result<Response<DaywiseAnalytics>, Error> {
        let path = KitPath::app(&params.account_id, app_id)?.lit("analytics").lit("daywise");
        self.client.request(Method::GET, path, Some(params), NONE).await
    }
}
