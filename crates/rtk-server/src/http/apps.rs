//! Apps: `GET`, `POST /accounts/{account_id}/realtime/kit/apps`.

use axum::extract::State;
use axum::response::Response;
use rtk_api::{App, AppCreated, CreateApp};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{Json, Page, Query};
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

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Matches a name (case-insensitive substring) or an app id (exact).
    search: Option<String>,
    /// `ASC` (default, oldest first) or `DESC`, any case.
    #[param(pattern = r"^\s*([aA][sS][cC]|[dD][eE][sS][cC])?\s*$")]
    sort_order: Option<String>,
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/apps", tag = "apps",
    params(Account, Page, ListQuery),
    responses((status = 200, description = "The account's apps, oldest first", body = rtk_api::Envelope<Vec<App>>),
              super::openapi::Read))]
async fn list_apps(
    State(s): State<AppState>,
    account: Account,
    page: Page,
    Query(q): Query<ListQuery>,
) -> ApiResult<Response> {
    let newest_first = super::sort_order(q.sort_order.as_deref(), false)?;
    let search = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let (rows, total) =
        s.store.list_apps(&account.id, search, newest_first, page.limit(), page.offset()).await?;
    Ok(super::page(rows.iter().map(app_view).collect(), page, total))
}

#[utoipa::path(post, path = "/accounts/{account_id}/realtime/kit/apps", tag = "apps",
    params(Account), request_body = CreateApp,
    responses((status = 201, description = "The new app", body = rtk_api::Envelope<AppCreated>),
              super::openapi::Write))]
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
