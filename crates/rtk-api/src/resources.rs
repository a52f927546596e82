//! Resource shapes: apps, presets, meetings, participants.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// An app: the unit owning presets, meetings and sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct App {
    pub id: String,
    pub name: String,
    pub created_at: String,
    #[serde(flatten, default, skip_serializing_if = "Map::is_empty")]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// Body of `POST /accounts/{account_id}/realtime/kit/apps`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CreateApp {
    /// 1 to 256 characters, not all white space (it is trimmed).
    #[schema(schema_with = app_name)]
    pub name: String,
}

/// `data` of the create-app response: `{"app": {…}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AppCreated {
    pub app: App,
}

fn app_name() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    crate::schema::name(crate::limits::NAME_CHARS)
}
