//! Presets as the API returns them. The deep document (`config`, `permissions`, `ui`) is kept
//! as JSON: it is validated by the server and passed through faithfully.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A preset in a list: `GET …/{app_id}/presets`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PresetSummary {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub updated_at: String,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// A whole preset: create, get by id, update, replace and delete all answer with one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Preset {
    pub id: String,
    pub name: String,
    pub config: Value,
    pub permissions: Value,
    pub ui: Value,
    pub created_at: String,
    pub updated_at: String,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}
