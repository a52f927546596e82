//! The OpenAPI 3.1 document served at `/openapi.json`: the API operations come from the
//! handlers' annotations and the `rtk-api` types; this module adds what those cannot say —
//! the error answers every operation can give (with the error envelope), the schemas of the
//! deep documents (generated from the validators in `schema.rs`, so the document states what
//! is enforced), the security schemes, and the routes outside the API (operations, chat
//! exports, the gateway, rtk's admin endpoints where this server has them).

use std::collections::BTreeMap;

use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Required};
use utoipa::{PartialSchema, ToSchema};

use super::schema::{F, S};

/// Error answers, by status: the component response names and what they mean.
const ERRORS: &[(&str, &str, &str)] = &[
    ("400", "BadRequest", "Invalid path, query or body; every bad field is named"),
    ("401", "Unauthorized", "Missing or invalid credentials"),
    ("404", "NotFound", "No such account (of these credentials), app, resource or route"),
    ("405", "MethodNotAllowed", "The route does not take this method"),
    (
        "409",
        "Conflict",
        "The change conflicts with the current state (a name in use, a meeting refusing joins)",
    ),
    ("410", "Gone", "The link has expired"),
    ("413", "PayloadTooLarge", "The body is over the limit"),
    ("414", "UriTooLong", "The request line is over the limit"),
    ("415", "UnsupportedMediaType", "The body is not declared as JSON"),
    ("431", "HeadersTooLarge", "The headers are over the limit"),
    ("500", "Internal", "An internal error (its cause is logged)"),
    ("503", "Unavailable", "Overloaded, timed out, or the store is unreachable; try again"),
];

fn error_refs(codes: &[&str]) -> BTreeMap<String, RefOr<Response>> {
    codes
        .iter()
        .map(|c| {
            let name = ERRORS.iter().find(|(code, ..)| code == c).map(|(_, n, _)| *n).unwrap_or("Internal");
            (c.to_string(), RefOr::Ref(Ref::new(format!("#/components/responses/{name}"))))
        })
        .collect()
}

/// Answers any request can get, whatever it asks: limits of the connection and the server.
const ANY: &[&str] = &["414", "431", "500", "503"];

macro_rules! error_set {
    ($($(#[$doc:meta])* $name:ident = [$($code:literal),*];)*) => {$(
        $(#[$doc])*
        pub struct $name;
        impl utoipa::IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                let mut codes: Vec<&str> = vec![$($code),*];
                codes.extend_from_slice(ANY);
                error_refs(&codes)
            }
        }
    )*};
}

error_set! {
    /// A read under the account: bad query or path, credentials, not found.
    Read = ["400", "401", "404"];
    /// A write with a JSON body.
    Write = ["400", "401", "404", "413", "415"];
    /// A write with a JSON body that can conflict with the current state.
    WriteConflict = ["400", "401", "404", "409", "413", "415"];
    /// An operations endpoint (no credentials).
    Ops = [];
}

/// The shared parts: error responses, deep-document schemas, security schemes.
pub struct Components;

impl utoipa::Modify for Components {
    fn modify(&self, doc: &mut OpenApi) {
        use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
        let c = doc.components.get_or_insert_with(Default::default);
        let envelope = rtk_api::ErrorEnvelope::name().to_string();
        for (_, name, description) in ERRORS {
            let content = ContentBuilder::new().schema(Some(Ref::from_schema_name(&envelope))).build();
            c.responses.insert(
                name.to_string(),
                RefOr::T(
                    ResponseBuilder::new()
                        .description(*description)
                        .content("application/json", content)
                        .build(),
                ),
            );
        }
        for (name, schema) in document_schemas() {
            c.schemas.insert(name.to_string(), schema);
        }
        // Types whose schemas are used by hand below (and the types they refer to).
        let mut used = Vec::new();
        register::<rtk_api::ops::Health>(&mut used);
        register::<rtk_api::ops::ClockState>(&mut used);
        register::<rtk_api::ops::ClockAdvance>(&mut used);
        register::<rtk_api::ops::ClockSet>(&mut used);
        register::<rtk_api::ops::ResetDone>(&mut used);
        register::<rtk_api::webhooks::WebhookKeyDocument>(&mut used);
        register::<rtk_api::webhooks::Delivery>(&mut used);
        register::<rtk_api::ErrorEnvelope>(&mut used);
        used.extend(rtk_api::schema::hand_written());
        for (name, schema) in used {
            c.schemas.entry(name).or_insert(schema);
        }
        c.add_security_scheme(
            "api_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        c.add_security_scheme(
            "api_email",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Auth-Email"))),
        );
        c.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Auth-Key"))),
        );
        c.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("rtk's admin token (never an API token)"))
                    .build(),
            ),
        );
    }
}

fn register<T: ToSchema>(out: &mut Vec<(String, RefOr<Schema>)>) {
    out.push((T::name().to_string(), T::schema()));
    T::schemas(out);
}

/// `s` as a JSON Schema; `path` names the field (string maxima from `limits.rs` apply by
/// name).
pub fn to_schema(s: &S, partial: bool) -> RefOr<Schema> {
    let of = |t: Type| ObjectBuilder::new().schema_type(SchemaType::new(t));
    match s {
        S::Str => of(Type::String).into(),
        S::Num => of(Type::Number).into(),
        S::Int => of(Type::Integer)
            .minimum(Some(-9_007_199_254_740_991_i64))
            .maximum(Some(9_007_199_254_740_991_i64))
            .into(),
        S::Whole(min, max) => of(Type::Integer).minimum(Some(*min)).maximum(Some(*max)).into(),
        S::Real(min, max) => of(Type::Number).minimum(Some(*min)).maximum(Some(*max)).into(),
        S::Bool => of(Type::Boolean).into(),
        S::Any => ObjectBuilder::new()
            .schema_type(SchemaType::AnyValue)
            .description(Some("Any JSON value (kept as sent)"))
            .into(),
        S::Enum(values) => of(Type::String).enum_values(Some(values.iter().copied())).into(),
        S::Obj(fields) => {
            let mut o = ObjectBuilder::new();
            for F(name, required, fs) in fields.iter() {
                o = o.property(*name, to_schema(fs, partial));
                if *required && !partial {
                    o = o.required(*name);
                }
            }
            o.into()
        }
        S::Arr(inner) => ArrayBuilder::new().items(to_schema(inner, partial)).into(),
        S::Map(inner) => ObjectBuilder::new()
            .additional_properties(Some(AdditionalProperties::RefOr(to_schema(inner, partial))))
            .into(),
        S::Null(inner) => OneOfBuilder::new().item(to_schema(inner, partial)).item(of(Type::Null)).into(),
    }
}

/// The field `name` of an object schema.
fn field(s: &'static S, name: &str) -> &'static S {
    match s {
        S::Obj(fields) => fields.iter().find(|F(n, ..)| *n == name).map(|F(_, _, fs)| fs).unwrap_or(&S::Any),
        S::Null(inner) => field(inner, name),
        _ => &S::Any,
    }
}

/// The deep documents' component schemas.
fn document_schemas() -> Vec<(&'static str, RefOr<Schema>)> {
    use super::schema::{AI_CONFIG, PRESET, RECORDING_CONFIG};
    vec![
        ("PresetConfig", to_schema(field(&PRESET, "config"), false)),
        ("PresetPermissions", to_schema(field(&PRESET, "permissions"), false)),
        ("PresetUi", to_schema(field(&PRESET, "ui"), false)),
        // A meeting's documents are checked for types only (every member optional).
        ("AiConfig", to_schema(&AI_CONFIG, true)),
        ("RecordingConfig", to_schema(&RECORDING_CONFIG, true)),
        ("RecordingStart", to_schema(&super::schema::RECORDING_START, false)),
        ("TrackRecordingStart", to_schema(&super::schema::TRACK_RECORDING_START, false)),
        ("PresetDocument", preset_body(false)),
        ("PresetPatch", preset_body(true)),
    ]
}

/// A preset document as create and replace take it (`partial`: as update merges it).
fn preset_body(partial: bool) -> RefOr<Schema> {
    let name = rtk_api::schema::name(super::limits::NAME_CHARS);
    let doc = |n: &str| RefOr::Ref(Ref::from_schema_name(n));
    let mut o = ObjectBuilder::new()
        .description(Some(if partial {
            "Members to merge into the preset (objects key by key); any member may be left out."
        } else {
            "A whole preset document; members rtk does not know are kept and returned."
        }))
        .property("name", name)
        .property(
            "config",
            if partial {
                to_schema(field(&super::schema::PRESET, "config"), true)
            } else {
                doc("PresetConfig")
            },
        )
        .property(
            "permissions",
            if partial {
                to_schema(field(&super::schema::PRESET, "permissions"), true)
            } else {
                doc("PresetPermissions")
            },
        )
        .property(
            "ui",
            if partial { to_schema(field(&super::schema::PRESET, "ui"), true) } else { doc("PresetUi") },
        );
    if let (false, S::Obj(fields)) = (partial, &super::schema::PRESET) {
        for F(n, required, _) in fields.iter() {
            if *required {
                o = o.required(*n);
            }
        }
    }
    o.into()
}

/// A request body schema by component name (for `request_body = …` in annotations).
pub struct PresetDocument;
impl PartialSchema for PresetDocument {
    fn schema() -> RefOr<Schema> {
        RefOr::Ref(Ref::from_schema_name("PresetDocument"))
    }
}
impl ToSchema for PresetDocument {}

/// The body of `POST …/recordings`.
pub struct RecordingStart;
impl PartialSchema for RecordingStart {
    fn schema() -> RefOr<Schema> {
        RefOr::Ref(Ref::from_schema_name("RecordingStart"))
    }
}
impl ToSchema for RecordingStart {}

/// The body of `POST …/recordings/track`.
pub struct TrackRecordingStart;
impl PartialSchema for TrackRecordingStart {
    fn schema() -> RefOr<Schema> {
        RefOr::Ref(Ref::from_schema_name("TrackRecordingStart"))
    }
}
impl ToSchema for TrackRecordingStart {}

/// A deep-partial preset document (update).
pub struct PresetPatch;
impl PartialSchema for PresetPatch {
    fn schema() -> RefOr<Schema> {
        RefOr::Ref(Ref::from_schema_name("PresetPatch"))
    }
}
impl ToSchema for PresetPatch {}

fn json_response(description: &str, schema: RefOr<Schema>) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", ContentBuilder::new().schema(Some(schema)).build())
        .build()
}

fn envelope_of(data: RefOr<Schema>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .property("success", ObjectBuilder::new().schema_type(SchemaType::new(Type::Boolean)))
        .property("data", data)
        .required("success")
        .required("data")
        .into()
}

fn op(summary: &str, tag: &str, ok: (&str, Response), errors: &[&str]) -> OperationBuilder {
    let mut responses = utoipa::openapi::ResponsesBuilder::new().response(ok.0, ok.1);
    for (code, r) in error_refs(&[errors, ANY].concat()) {
        responses = responses.response(code, r);
    }
    OperationBuilder::new().summary(Some(summary)).tag(tag).responses(responses.build())
}

/// A path answered only at the root (not under `/client/v4`).
fn at_root(item: PathItem) -> PathItem {
    let mut item = item;
    item.servers = Some(vec![utoipa::openapi::Server::new("/")]);
    item
}

/// The `{file}` path parameter of the playback and file routes.
fn file_param(description: &str) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name("file")
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(ObjectBuilder::new().schema_type(SchemaType::new(Type::String)).min_length(Some(1))))
        .build()
}

fn no_security(b: OperationBuilder) -> OperationBuilder {
    b.securities(Some(Vec::<SecurityRequirement>::new()))
}

/// Adds the routes outside the API: operations, chat exports, the gateway, and the admin
/// endpoints `config` enables (the same condition `clock::routes` routes them under).
pub fn document_other_routes(doc: &mut OpenApi, config: &crate::config::Config) {
    use rtk_api::ops::{ClockAdvance, ClockSet, ClockState, Health, ResetDone};
    let health = || envelope_of(Health::schema());
    let text = |desc: &str, media: &str| {
        ResponseBuilder::new()
            .description(desc)
            .content(
                media,
                ContentBuilder::new()
                    .schema(Some(ObjectBuilder::new().schema_type(SchemaType::new(Type::String))))
                    .build(),
            )
            .build()
    };
    // A response in each of several media types: a JSON object, or text.
    let bodies = |desc: &str, media: &[&str]| {
        let mut r = ResponseBuilder::new().description(desc);
        for m in media {
            let schema = if m.starts_with("application/json") {
                ObjectBuilder::new()
                    .schema_type(SchemaType::new(Type::Object))
                    .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(true)))
            } else {
                ObjectBuilder::new().schema_type(SchemaType::new(Type::String))
            };
            r = r.content(*m, ContentBuilder::new().schema(Some(schema)).build());
        }
        r.build()
    };
    let mut add = |path: &str, method: HttpMethod, b: OperationBuilder| {
        let item = at_root(PathItem::new(method.clone(), b.build()));
        match doc.paths.paths.get_mut(path) {
            Some(existing) => existing.merge_operations(item),
            None => {
                doc.paths.paths.insert(path.to_string(), item);
            }
        }
    };
    add(
        "/healthz",
        HttpMethod::Get,
        no_security(op(
            "Liveness: the process answers",
            "operations",
            ("200", json_response("Alive", health())),
            &[],
        )),
    );
    add(
        "/readyz",
        HttpMethod::Get,
        no_security(op(
            "Readiness: the store is reachable (503 when not)",
            "operations",
            ("200", json_response("Ready", health())),
            &[],
        )),
    );
    add(
        "/metrics",
        HttpMethod::Get,
        no_security(op(
            "Prometheus metrics: request counts and latency by route and status",
            "operations",
            ("200", text("The metrics, in Prometheus' text format", "text/plain")),
            &[],
        )),
    );
    add(
        "/openapi.json",
        HttpMethod::Get,
        no_security(op(
            "This document",
            "operations",
            (
                "200",
                json_response(
                    "The OpenAPI 3.1 document",
                    ObjectBuilder::new()
                        .property("openapi", ObjectBuilder::new().schema_type(SchemaType::new(Type::String)))
                        .property(
                            "paths",
                            ObjectBuilder::new()
                                .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(true))),
                        )
                        .required("openapi")
                        .required("paths")
                        .into(),
                ),
            ),
            &[],
        )),
    );
    let token = |desc: &str| {
        ParameterBuilder::new()
            .name("token")
            .parameter_in(ParameterIn::Path)
            .required(Required::True)
            .description(Some(desc))
            .schema(Some(ObjectBuilder::new().schema_type(SchemaType::new(Type::String)).min_length(Some(1))))
            .build()
    };
    add(
        "/chat-exports/{token}",
        HttpMethod::Get,
        no_security(
            op(
                "A session's chat as CSV: the link `…/chat` hands out (the link is the credential)",
                "sessions",
                (
                    "200",
                    text(
                        "id,sent_at,peer_id,participant_id,display_name,message; one row a message",
                        "text/csv",
                    ),
                ),
                &["404", "410"],
            )
            .parameter(token("The signed export token (a `.csv` suffix is allowed)")),
        ),
    );
    add(
        "/recording-files/{token}",
        HttpMethod::Get,
        no_security(
            op(
                "A recording's file: the link a recording's `download_url` is (the link is the credential). The session's timeline as JSON (docs/recordings.md); with `.vtt` appended, the same events as WebVTT (`text/vtt`)",
                "recordings",
                ("200", bodies("The recording's timeline document (format rtk-recording/1), or with `.vtt` its WebVTT track", &["application/json", "text/vtt; charset=utf-8"])),
                &["404", "410"],
            )
            .parameter(token("The signed file token (`.json` or `.vtt` suffix allowed)")),
        ),
    );
    add(
        "/live/{file}",
        HttpMethod::Get,
        no_security(
            op(
                "A livestream's playback: `playback_url` is `/live/{livestream_id}.flv`, the live stream as HTTP-FLV (the configuration tags and the tags since the last keyframe first). 404 while it is not live; 503 when it has its maximum of viewers (docs/livestreams.md)",
                "livestreams",
                ("200", text("The live stream (FLV, until the ingest ends)", "video/x-flv")),
                &["404", "503"],
            )
            .parameter(file_param("`{livestream_id}.flv`")),
        ),
    );
    add(
        "/livestream-files/{file}",
        HttpMethod::Get,
        no_security(
            op(
                "A recorded ingest behind its signed link (a livestream session's `recording_url`, with `--livestream-record`): `{token}.flv`, the FLV file as the ingest sent it. 404 for a link that is not one; 410 once it has expired",
                "livestreams",
                ("200", text("The FLV file", "video/x-flv")),
                &["404", "410"],
            )
            .parameter(file_param("`{token}.flv`")),
        ),
    );
    add(
        "/transcripts/{token}",
        HttpMethod::Get,
        no_security(
            op(
                "A session's transcript in the format its link was made for (`GET …/sessions/{id}/transcript`, `meeting.transcript`): SRT, WebVTT, JSON or CSV",
                "sessions",
                ("200", bodies("The transcript, in its link's format", &crate::transcripts::Format::ALL.map(|f| f.content_type()))),
                &["404", "410"],
            )
            .parameter(token("The signed transcript token")),
        ),
    );
    add(
        "/summaries/{token}",
        HttpMethod::Get,
        no_security(
            op(
                "A session's summary, Markdown (`GET …/sessions/{id}/summary`, `meeting.summary`)",
                "sessions",
                ("200", text("The summary", "text/markdown")),
                &["404", "410"],
            )
            .parameter(token("The signed summary token")),
        ),
    );
    let gateway_token = ParameterBuilder::new()
        .name("token")
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some("A participant token (or send it as `Authorization: Bearer`)"))
        .schema(Some(ObjectBuilder::new().schema_type(SchemaType::new(Type::String))))
        .build();
    add(
        "/gateway/v1",
        HttpMethod::Get,
        no_security(
            op(
                "The participant gateway: a WebSocket (docs/gateway.md); a plain request is refused",
                "gateway",
                ("101", ResponseBuilder::new().description("Switching to the WebSocket protocol").build()),
                &["400", "405"],
            )
            .parameter(gateway_token),
        ),
    );

    {
        use rtk_api::webhooks::{Delivery, WebhookKeyDocument};
        add(
            "/.well-known/webhooks.json",
            HttpMethod::Get,
            no_security(op(
                "The public key that verifies webhook deliveries' `rtk-signature` (docs/webhooks.md)",
                "webhooks",
                ("200", json_response("The PEM public key", WebhookKeyDocument::schema())),
                &[],
            )),
        );
        let p = super::scope::path_param;
        let ids = |b: OperationBuilder, delivery: bool| {
            let mut b = b
                .parameter(p("account_id", "The account; another account's path answers 404."))
                .parameter(p("app_id", "The app, of the account."))
                .parameter(p("webhook_id", "The webhook, of the app."));
            if delivery {
                b = b.parameter(p("delivery_id", "A delivery (one event to this webhook)."));
            }
            b
        };
        add(
            super::dashboard::EVENTS_PATH,
            HttpMethod::Get,
            op(
                "rtk: a live session's events as they happen on every node, as server-sent events (the dashboard's live view): `hello`, then each gateway event its peers get under its `type` (`peer_joined`, `peer_left`, `chat`, …), `peer_dropped` and `peer_resumed` {peer_id}, `lagged` when the stream fell behind, and `session_ended` last. An ended session answers `hello` and `session_ended` at once",
                "rtk dashboard",
                ("200", text("The event stream", "text/event-stream")),
                &["400", "401", "404"],
            )
            .parameter(p("account_id", "The account; another account's path answers 404."))
            .parameter(p("app_id", "The app, of the account."))
            .parameter(p("session_id", "A session of the app.")),
        );
        add(
            super::dashboard::GAPS_PATH,
            HttpMethod::Get,
            op(
                "rtk: the lost connections of a session's peers (when each dropped and, if it came back, resumed), in time order, at most 10,000 (the dashboard's peer timeline)",
                "rtk dashboard",
                (
                    "200",
                    json_response(
                        "The gaps",
                        envelope_of(
                            utoipa::openapi::schema::ArrayBuilder::new()
                                .items(rtk_api::sessions::PeerGap::schema())
                                .into(),
                        ),
                    ),
                ),
                &["400", "401", "404"],
            )
            .parameter(p("account_id", "The account; another account's path answers 404."))
            .parameter(p("app_id", "The app, of the account."))
            .parameter(p("session_id", "A session of the app.")),
        );
        for (path, what, media) in [
            ("/", "rtk's dashboard: sign in with an API token; apps, meetings, live sessions, the API reference (docs/dashboard.md)", "text/html"),
            ("/dashboard/app.js", "The dashboard's script", "text/javascript"),
            ("/dashboard/app.css", "The dashboard's style", "text/css"),
        ] {
            add(path, HttpMethod::Get, no_security(op(what, "rtk dashboard", ("200", text(what, media)), &[])));
        }
        let base = "/_rtk/accounts/{account_id}/apps/{app_id}/webhooks/{webhook_id}/deliveries";
        let state = ParameterBuilder::new()
            .name("state")
            .parameter_in(ParameterIn::Query)
            .required(Required::False)
            .description(Some("Only deliveries in this state"))
            .schema(Some(
                ObjectBuilder::new().schema_type(SchemaType::new(Type::String)).enum_values(Some([
                    "pending",
                    "delivered",
                    "failed",
                    "cancelled",
                ])),
            ))
            .build();
        let limit = ParameterBuilder::new()
            .name("limit")
            .parameter_in(ParameterIn::Query)
            .required(Required::False)
            .description(Some("How many, newest first (default 50)"))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(SchemaType::new(Type::Integer))
                    .minimum(Some(1))
                    .maximum(Some(500)),
            ))
            .build();
        let one = || json_response("The delivery and its attempts", envelope_of(Delivery::schema()));
        add(
            base,
            HttpMethod::Get,
            ids(
                op(
                    "rtk: a webhook's deliveries, newest first, each with its attempts",
                    "rtk webhooks",
                    (
                        "200",
                        json_response(
                            "Deliveries",
                            envelope_of(
                                utoipa::openapi::schema::ArrayBuilder::new().items(Delivery::schema()).into(),
                            ),
                        ),
                    ),
                    &["400", "401", "404"],
                ),
                false,
            )
            .parameter(state)
            .parameter(limit),
        );
        add(
            &format!("{base}/{{delivery_id}}"),
            HttpMethod::Get,
            ids(
                op(
                    "rtk: one delivery and its attempts",
                    "rtk webhooks",
                    ("200", one()),
                    &["400", "401", "404"],
                ),
                true,
            ),
        );
        add(
            &format!("{base}/{{delivery_id}}/redeliver"),
            HttpMethod::Post,
            ids(
                op(
                    "rtk: sends a delivered or failed event again, with the same `rtk-uuid`",
                    "rtk webhooks",
                    ("200", one()),
                    &["400", "401", "404", "409"],
                ),
                true,
            ),
        );
    }

    let admin = |b: OperationBuilder| {
        b.securities(Some([SecurityRequirement::new("admin_token", Vec::<String>::new())]))
    };
    let body = |schema: RefOr<Schema>| {
        RequestBodyBuilder::new()
            .content("application/json", ContentBuilder::new().schema(Some(schema)).build())
            .required(Some(Required::True))
            .build()
    };
    let clock = || json_response("The clock, and what the move applied", envelope_of(ClockState::schema()));
    if config.manual_clock.is_some() {
        add(
            "/_rtk/clock",
            HttpMethod::Get,
            admin(op("rtk: the manual clock's time", "rtk admin", ("200", clock()), &["401"])),
        );
        add(
            "/_rtk/clock/advance",
            HttpMethod::Post,
            admin(
                op(
                    "rtk: moves the manual clock forward, applying what falls due",
                    "rtk admin",
                    ("200", clock()),
                    &["400", "401", "413", "415"],
                )
                .request_body(Some(body(ClockAdvance::schema()))),
            ),
        );
        add(
            "/_rtk/clock/set",
            HttpMethod::Post,
            admin(
                op(
                    "rtk: moves the manual clock to a time (never back)",
                    "rtk admin",
                    ("200", clock()),
                    &["400", "401", "413", "415"],
                )
                .request_body(Some(body(ClockSet::schema()))),
            ),
        );
    }
    if config.admin_token_hash.is_some() && (config.manual_clock.is_some() || config.enable_reset) {
        add(
            "/_rtk/reset",
            HttpMethod::Post,
            admin(op(
                "rtk: empties the store of what apps made, keeping accounts and API tokens",
                "rtk admin",
                ("200", json_response("Reset", envelope_of(ResetDone::schema()))),
                &["401"],
            )),
        );
    }
}

/// A time query parameter (`start_time`, `end_time`): what `time_param` reads — an RFC 3339
/// time, a date, or a date and time without an offset (read as UTC).
pub fn time_query() -> RefOr<Schema> {
    time_query_of(false)
}

/// A time query parameter that also takes Unix seconds (up to 12 digits).
pub fn unix_or_time_query() -> RefOr<Schema> {
    time_query_of(true)
}

fn time_query_of(unix: bool) -> RefOr<Schema> {
    use utoipa::openapi::schema::{AnyOfBuilder, KnownFormat, SchemaFormat};
    let of = |f: KnownFormat| {
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .format(Some(SchemaFormat::KnownFormat(f)))
    };
    let pattern = |p: &str| ObjectBuilder::new().schema_type(SchemaType::new(Type::String)).pattern(Some(p));
    let mut any = AnyOfBuilder::new()
        .item(of(KnownFormat::DateTime))
        .item(of(KnownFormat::Date))
        .item(pattern(
            r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|1\d|2[0-8])[T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?$",
        ))
        .item(pattern(r"^\s*$"));
    let mut about =
        "An RFC 3339 time; a date, or a date and time without an offset, reads as UTC; empty is no bound";
    if unix {
        any = any.item(pattern(r"^\s*\d{1,12}\s*$"));
        about = "Unix seconds, or an RFC 3339 time (a date, or a date and time without an offset, reads as UTC); empty is no bound";
    }
    any.description(Some(about)).into()
}

/// A JSON body is optional where its schema requires nothing: the API reads an empty body as
/// `{}`.
pub fn optional_bodies(doc: &mut OpenApi) {
    let schemas = doc.components.as_ref().map(|c| c.schemas.clone()).unwrap_or_default();
    let requires = |schema: &RefOr<Schema>| -> bool {
        let s = match schema {
            RefOr::Ref(r) => {
                let name = r.ref_location.rsplit('/').next().unwrap_or_default();
                match schemas.get(name) {
                    Some(s) => s.clone(),
                    None => return true,
                }
            }
            other => other.clone(),
        };
        match s {
            RefOr::T(Schema::Object(o)) => !o.required.is_empty(),
            _ => true,
        }
    };
    for item in doc.paths.paths.values_mut() {
        for op in [&mut item.post, &mut item.put, &mut item.patch].into_iter().flatten() {
            let Some(body) = op.request_body.as_mut() else { continue };
            let needed = body
                .content
                .get("application/json")
                .and_then(|c| c.schema.as_ref())
                .map(&requires)
                .unwrap_or(true);
            body.required = Some(if needed { Required::True } else { Required::False });
        }
    }
}
