//! Presets as the API returns them. The deep document (`config`, `permissions`, `ui`) is kept
//! as it was sent: validated by the server, stored as JSON text and written back member by
//! member (the two SDK generations model it differently, so rtk passes it through).

use serde::de::{Deserializer, Error as _};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::document::Document;
use crate::schema;

/// A preset in a list: `GET …/{app_id}/presets`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct PresetSummary {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub updated_at: String,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// A whole preset: create, get by id, update, replace and delete all answer with one.
///
/// On the wire: the document's members in the order they were sent (`name` among them, with
/// the preset's trimmed name), then `id`, `created_at`, `updated_at`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Preset {
    pub id: String,
    pub name: String,
    /// The document as stored: `config`, `permissions`, `ui` and any member a newer SDK sends
    /// (`name` too, where it was sent; it is written as [`Preset::name`]).
    pub document: Document,
    pub created_at: String,
    pub updated_at: String,
}

impl Preset {
    /// The document's `config`.
    pub fn config(&self) -> Value {
        self.document.get("config").unwrap_or(Value::Null)
    }
    /// The document's `permissions`.
    pub fn permissions(&self) -> Value {
        self.document.get("permissions").unwrap_or(Value::Null)
    }
    /// The document's `ui`.
    pub fn ui(&self) -> Value {
        self.document.get("ui").unwrap_or(Value::Null)
    }
}

/// Members the server owns: never taken from the document.
const OWNED: [&str; 3] = ["id", "created_at", "updated_at"];

impl Serialize for Preset {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        let mut named = false;
        for (k, v) in self.document.members() {
            if k == "name" {
                m.serialize_entry("name", &self.name)?;
                named = true;
            } else if !OWNED.contains(&k.as_ref()) {
                m.serialize_entry(k.as_ref(), v)?;
            }
        }
        m.serialize_entry("id", &self.id)?;
        if !named {
            m.serialize_entry("name", &self.name)?;
        }
        m.serialize_entry("created_at", &self.created_at)?;
        m.serialize_entry("updated_at", &self.updated_at)?;
        m.end()
    }
}

impl<'de> Deserialize<'de> for Preset {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut m = Map::<String, Value>::deserialize(d)?;
        let mut text = |k: &str| match m.remove(k) {
            Some(Value::String(s)) => Ok(s),
            None | Some(Value::Null) => Ok(String::new()),
            Some(other) => Err(D::Error::custom(format!("\"{k}\" must be a string, got {other}"))),
        };
        let (id, created_at, updated_at) = (text("id")?, text("created_at")?, text("updated_at")?);
        let name = match m.get("name") {
            Some(Value::String(s)) => s.clone(),
            _ => String::new(),
        };
        Ok(Preset { id, name, document: Document::from_map(&m), created_at, updated_at })
    }
}

impl utoipa::__dev::ComposeSchema for Preset {
    fn compose(
        _: Vec<utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>>,
    ) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::ObjectBuilder;
        ObjectBuilder::new()
            .description(Some(
                "A preset: the document as it was sent (members in their order, unknown members kept), then `id`, `created_at` and `updated_at`.",
            ))
            .property("name", schema::text(1, crate::limits::NAME_CHARS))
            .property("config", schema::component("PresetConfig"))
            .property("permissions", schema::component("PresetPermissions"))
            .property("ui", schema::component("PresetUi"))
            .property("id", schema::string())
            .property("created_at", schema::time())
            .property("updated_at", schema::time())
            .required("name")
            .required("id")
            .required("created_at")
            .required("updated_at")
            .into()
    }
}

impl ToSchema for Preset {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_is_written_in_place_and_server_fields_last() {
        let p = Preset {
            id: "p1".into(),
            name: "host".into(),
            document: Document::from_text(r#"{"config":{"a":1},"name":"  host ","ui":{}}"#.into()),
            created_at: "t0".into(),
            updated_at: "t1".into(),
        };
        let text = serde_json::to_string(&p).unwrap();
        assert_eq!(
            text,
            r#"{"config":{"a":1},"name":"host","ui":{},"id":"p1","created_at":"t0","updated_at":"t1"}"#
        );
        let back: Preset = serde_json::from_str(&text).unwrap();
        assert_eq!((back.id.as_str(), back.name.as_str()), ("p1", "host"));
        assert_eq!(back.config()["a"], 1);
    }
}
