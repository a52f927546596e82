//! Documents the API stores as they were sent (a preset's `config`/`permissions`/`ui`, a
//! meeting's settings): kept as JSON text and written out member by member, never parsed into
//! a tree to be answered.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// A JSON object held as its text. Serialising it writes its members in their stored order,
/// each value byte for byte as stored; text that is not a JSON object reads as `{}`.
#[derive(Clone, Default)]
pub struct Document {
    text: String,
}

/// The members of a document: keys (borrowed unless escaped) and raw values.
pub type Members<'a> = Vec<(Cow<'a, str>, &'a RawValue)>;

impl Document {
    /// A document from its stored text (`{…}` as `serde_json` wrote it).
    pub fn from_text(text: String) -> Self {
        Document { text }
    }

    /// A document holding `map`'s members.
    pub fn from_map(map: &Map<String, Value>) -> Self {
        Document { text: Value::Object(map.clone()).to_string() }
    }

    /// The stored text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The members in their order; none when the text is not a JSON object.
    pub fn members(&self) -> Members<'_> {
        members(&self.text).unwrap_or_default()
    }

    /// The member `key` read as `T`; `None` when absent or of another type.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let members = self.members();
        let (_, raw) = members.iter().find(|(k, _)| k == key)?;
        serde_json::from_str(raw.get()).ok()
    }

    /// Whether the document has a member `key`.
    pub fn contains(&self, key: &str) -> bool {
        self.members().iter().any(|(k, _)| k == key)
    }

    /// The members as a map (parsed).
    pub fn to_map(&self) -> Map<String, Value> {
        match serde_json::from_str(&self.text) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    }

    /// Writes the members into a map being serialised, as stored, but those `skip` names (the
    /// caller writes those itself).
    pub fn write_members<M: SerializeMap>(
        &self,
        m: &mut M,
        mut skip: impl FnMut(&str) -> bool,
    ) -> Result<(), M::Error> {
        for (k, v) in self.members() {
            if !skip(&k) {
                m.serialize_entry(k.as_ref(), v)?;
            }
        }
        Ok(())
    }
}

fn members(text: &str) -> Option<Members<'_>> {
    struct MembersVisitor;
    impl<'de> Visitor<'de> for MembersVisitor {
        type Value = Members<'de>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(map.size_hint().unwrap_or(8));
            while let Some(Key(k)) = map.next_key()? {
                out.push((k, map.next_value::<&RawValue>()?));
            }
            Ok(out)
        }
    }
    struct Of<'a>(Members<'a>);
    impl<'de> Deserialize<'de> for Of<'de> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_map(MembersVisitor).map(Of)
        }
    }
    serde_json::from_str::<Of<'_>>(text).ok().map(|o| o.0)
}

/// A key, borrowed from the text unless it holds escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

impl Serialize for Document {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let members = self.members();
        let mut m = s.serialize_map(Some(members.len()))?;
        for (k, v) in &members {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Document::from_map(&Map::deserialize(d)?))
    }
}

impl PartialEq for Document {
    fn eq(&self, o: &Self) -> bool {
        self.text == o.text || self.to_map() == o.to_map()
    }
}

impl fmt::Debug for Document {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Any JSON value held as its text (a participant's `device` metadata).
#[derive(Clone)]
pub struct RawJson(Box<RawValue>);

impl RawJson {
    /// The value of stored JSON text; `None` when the text is not JSON.
    pub fn from_text(text: String) -> Option<Self> {
        RawValue::from_string(text).ok().map(RawJson)
    }
    pub fn as_str(&self) -> &str {
        self.0.get()
    }
    /// The value, parsed.
    pub fn to_value(&self) -> Value {
        serde_json::from_str(self.0.get()).unwrap_or(Value::Null)
    }
}

impl Serialize for RawJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for RawJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        RawValue::from_string(v.to_string()).map(RawJson).map_err(de::Error::custom)
    }
}

impl PartialEq for RawJson {
    fn eq(&self, o: &Self) -> bool {
        self.to_value() == o.to_value()
    }
}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.0.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn members_keep_order_and_bytes() {
        let v = json!({"z": 1, "a": {"y": [1.5, "x\"", null], "b": 1e300}, "k\"ey": "é", "n": -0.0});
        let text = v.to_string();
        let d = Document::from_text(text.clone());
        assert_eq!(serde_json::to_string(&d).unwrap(), text);
        let keys: Vec<_> = d.members().into_iter().map(|(k, _)| k.into_owned()).collect();
        assert_eq!(keys, ["z", "a", "k\"ey", "n"]);
        assert_eq!(d.get::<i64>("z"), Some(1));
        assert_eq!(d.get::<String>("z"), None);
        assert_eq!(d.to_map(), v.as_object().cloned().unwrap());
    }

    #[test]
    fn text_that_is_not_an_object_reads_as_empty() {
        for bad in ["", "[1]", "{", "7"] {
            let d = Document::from_text(bad.into());
            assert_eq!(serde_json::to_string(&d).unwrap(), "{}", "{bad:?}");
        }
    }

    #[test]
    fn a_round_trip_through_a_client_is_equal() {
        let d = Document::from_text(r#"{"b":1,"a":[true]}"#.into());
        let back: Document = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
        assert_eq!(back, d);
    }
}
