//! Lenient readers for numbers in responses. RealtimeKit types counts as JSON numbers that
//! may arrive as `3` or `3.0` (or, from some proxies, `"3"`); these accept each form.

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

struct CountVisitor;

impl<'de> Visitor<'de> for CountVisitor {
    type Value = Option<u64>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a non-negative whole number")
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(CountVisitor)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        u64::try_from(v).map(Some).map_err(|_| E::custom(format!("expected a count, got {v}")))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= u64::MAX as f64 {
            Ok(Some(v as u64))
        } else {
            Err(E::custom(format!("expected a count, got {v}")))
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let t = v.trim();
        if let Ok(n) = t.parse::<u64>() {
            return Ok(Some(n));
        }
        match t.parse::<f64>() {
            Ok(f) => self.visit_f64(f),
            Err(_) => Err(E::custom(format!("expected a count, got {v:?}"))),
        }
    }
}

/// A count: `3`, `3.0` or `"3"`; `null` or absent reads as 0.
pub fn count<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(d.deserialize_option(CountVisitor)?.unwrap_or(0))
}

/// An optional count: `3`, `3.0` or `"3"`; `null` reads as `None`.
pub fn opt_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    d.deserialize_option(CountVisitor)
}

/// `null` reads as the type's default (for fields a server may send as `null`).
pub fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: serde::Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A member that may be absent (`None`), `null` (`Some(None)`) or a value: use with
/// `#[serde(default, deserialize_with = "present")]` on an `Option<Option<T>>`.
pub fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize)]
    struct C {
        #[serde(default, deserialize_with = "super::count")]
        n: u64,
        #[serde(default, deserialize_with = "super::opt_count")]
        o: Option<u64>,
    }

    fn c(s: &str) -> Result<C, serde_json::Error> {
        serde_json::from_str(s)
    }

    #[test]
    fn counts_in_every_form() {
        assert_eq!(c(r#"{"n": 3}"#).unwrap().n, 3);
        assert_eq!(c(r#"{"n": 3.0}"#).unwrap().n, 3);
        assert_eq!(c(r#"{"n": "3"}"#).unwrap().n, 3);
        assert_eq!(c(r#"{"n": null}"#).unwrap().n, 0);
        assert_eq!(c(r#"{}"#).unwrap().n, 0);
        assert_eq!(c(r#"{"o": null}"#).unwrap().o, None);
        assert_eq!(c(r#"{"o": 7}"#).unwrap().o, Some(7));
        assert!(c(r#"{"n": 1.5}"#).is_err());
        assert!(c(r#"{"n": -1}"#).is_err());
    }
}
