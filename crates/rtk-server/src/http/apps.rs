//! Apps: `GET`, `POST /accounts/{account_id}/realtime/kit/apps`.

use axum::extract::State;
use axum::response::Response;
use rtk_api::{App, AppCreated, CreateApp};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{Json, PageParams, Query};
use crate::auth::Account;
use crate::clock::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{new_id, AppRow};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_apps, create_app))
}

pub fn app_view(a: &AppRow) -> App {
    App {
        id: a.id.clone(),
        name: a.name.clone(),
        created_at: rfc3339(a.created_at),
        extra: Default::default(),
    }
}

/// Finds the app `app_id` of the caller's account, or 404.
pub async fn find_app(s: &AppState, account: &Account, app_id: &str) -> ApiResult<AppRow> {
    s.app(&account.id, app_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No app found with id {app_id}")))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    #[serde(default, deserialize_with = "crate::http::de::opt_number")]
    page_no: Option<f64>,
    #[serde(default, deserialize_with = "crate::http::de::opt_number")]
    per_page: Option<f64>,
    /// Matches a name (case-insensitive substring) or an app id (exact).
    search: Option<String>,
    /// `ASC` (default, oldest first) or `DESC`.
    sort_order: Option<String>,
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/apps", tag = "apps",
    params(("account_id" = String, Path), ListQuery),
    responses((status = 200, description = "The account's apps, oldest first", body = rtk_api::Envelope<Vec<App>>)))]
async fn list_apps(
    State(s): State<AppState>,
    account: Account,
    Query(q): Query<ListQuery>,
) -> ApiResult<Response> {
    let page = PageParams { page_no: q.page_no, per_page: q.per_page }.page()?;
    let newest_first = super::sort_order(q.sort_order.as_deref(), false)?;
    let search = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let (rows, total) =
        s.store.list_apps(&account.id, search, newest_first, page.limit(), page.offset()).await?;
    Ok(super::page(rows.iter().map(app_view).collect(), page, total))
}

#[utoipa::path(post, path = "/accounts/{account_id}/realtime/kit/apps", tag = "apps",
    params(("account_id" = String, Path)), request_body = CreateApp,
    responses((status = 201, description = "The new app", body = rtk_api::Envelope<AppCreated>),
              (status = 400, description = "Invalid body", body = rtk_api::ErrorEnvelope)))]
async fn create_app(
    State(s): State<AppState>,
    account: Account,
    Json(body): Json<CreateApp>,
) -> ApiResult<Response> {
    let name = body.name.trim();
    let max = super::limits::NAME_CHARS;
    if name.is_empty() || name.chars().count() > max {
        return Err(ApiError::bad_request(format!("\"name\" must be 1 to {max} characters")));
    }
    let row = AppRow { id: new_id(), account_id: account.id, name: name.to_string(), created_at: s.now() };
    s.store.insert_app(&row).await?;
    Ok(super::created(AppCreated { app: app_view(&row) }))
}
