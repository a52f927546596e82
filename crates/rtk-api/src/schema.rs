//! Small builders for the OpenAPI schemas of types whose JSON is written by hand.

use utoipa::openapi::schema::{
    ArrayBuilder, KnownFormat, ObjectBuilder, OneOfBuilder, Ref, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::RefOr;

fn of(t: Type) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::new(t))
}

/// A string.
pub fn string() -> RefOr<Schema> {
    of(Type::String).into()
}

/// A string of `min` to `max` characters.
pub fn text(min: usize, max: usize) -> RefOr<Schema> {
    of(Type::String).min_length(Some(min)).max_length(Some(max)).into()
}

/// Text with at least one character that is not white space (as Rust's `str::trim` counts it:
/// the names the API trims before it checks they are not empty).
pub const NOT_BLANK: &str =
    r"[^\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";

/// A name: 1 to `max` characters, not all white space.
pub fn name(max: usize) -> RefOr<Schema> {
    of(Type::String).min_length(Some(1)).max_length(Some(max)).pattern(Some(NOT_BLANK)).into()
}

/// An RFC 3339 time with milliseconds and `Z`.
pub fn time() -> RefOr<Schema> {
    of(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))).into()
}

/// `true` or `false`.
pub fn boolean() -> RefOr<Schema> {
    of(Type::Boolean).into()
}

/// A whole number from `min` to `max`.
pub fn integer(min: i64, max: i64) -> RefOr<Schema> {
    of(Type::Integer).minimum(Some(min)).maximum(Some(max)).into()
}

/// One of `values`.
pub fn one_of_strings(values: &[&str]) -> RefOr<Schema> {
    of(Type::String).enum_values(Some(values.iter().copied())).into()
}

/// A reference to the component schema `name`.
pub fn component(name: &str) -> RefOr<Schema> {
    Ref::from_schema_name(name).into()
}

/// `schema` or `null`.
pub fn nullable(schema: RefOr<Schema>) -> RefOr<Schema> {
    OneOfBuilder::new().item(schema).item(of(Type::Null)).into()
}

/// An array of `items`.
pub fn array(items: RefOr<Schema>) -> RefOr<Schema> {
    ArrayBuilder::new().items(items).into()
}

/// The types whose schemas are written by hand (`ComposeSchema` in their modules), each with
/// its schema, and the named schemas those refer to: components a document using them holds.
pub fn hand_written() -> Vec<(String, RefOr<Schema>)> {
    use utoipa::ToSchema;
    fn add<T: ToSchema>(out: &mut Vec<(String, RefOr<Schema>)>) {
        out.push((T::name().to_string(), T::schema()));
        T::schemas(out);
    }
    let mut out = Vec::new();
    add::<crate::presets::Preset>(&mut out);
    add::<crate::meetings::Meeting>(&mut out);
    add::<crate::meetings::MeetingBody>(&mut out);
    add::<crate::active_session::BreakoutRoom>(&mut out);
    add::<crate::sessions::SessionDetails>(&mut out);
    add::<crate::sessions::SessionMeta>(&mut out);
    add::<crate::sessions::Device>(&mut out);
    add::<crate::sessions::Session>(&mut out);
    out
}
