//! The OpenAPI document at `/openapi.json`: it lists every path the server routes (and only
//! those), every schema says what it holds (no bare object), every reference resolves, and
//! every operation documents its error answers with the error envelope and its bounds.

use reqwest::{Method, StatusCode};
use rtk_server::ManualClock;
use serde_json::Value;

use crate::harness::{Db, TestServer, T0};

/// Routes outside the API that a server with the admin clock and an admin token has.
const OTHER_ROUTES: &[&str] = &[
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "/chat-exports/{token}",
    "/recording-files/{token}",
    "/transcripts/{token}",
    "/summaries/{token}",
    "/live/{file}",
    "/livestream-files/{file}",
    "/",
    "/dashboard/app.js",
    "/dashboard/app.css",
    "/_rtk/accounts/{account_id}/apps/{app_id}/sessions/{session_id}/events",
    "/gateway/v1",
    "/_rtk/clock",
    "/_rtk/clock/advance",
    "/_rtk/clock/set",
    "/_rtk/reset",
    "/.well-known/webhooks.json",
    "/_rtk/accounts/{account_id}/apps/{app_id}/webhooks/{webhook_id}/deliveries",
    "/_rtk/accounts/{account_id}/apps/{app_id}/webhooks/{webhook_id}/deliveries/{delivery_id}",
    "/_rtk/accounts/{account_id}/apps/{app_id}/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
];

/// Every schema object in `v` (recursively), with where it is.
fn schemas<'a>(v: &'a Value, at: String, out: &mut Vec<(String, &'a Value)>) {
    match v {
        Value::Object(m) => {
            if m.contains_key("type") || m.contains_key("properties") {
                out.push((at.clone(), v));
            }
            for (k, x) in m {
                schemas(x, format!("{at}/{k}"), out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                schemas(x, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn is_object_type(t: &Value) -> bool {
    t == "object" || t.as_array().is_some_and(|a| a.iter().any(|x| x == "object"))
}

fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(m) => {
            if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                out.push(r);
            }
            m.values().for_each(|x| refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

fn resolve<'a>(doc: &'a Value, r: &str) -> Option<&'a Value> {
    doc.pointer(r.strip_prefix('#')?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_is_complete() {
    let Some(s) = TestServer::start_with(Db::Sqlite, |c| {
        c.manual_clock = Some(ManualClock::new(T0));
        c.admin_token_hash = Some(rtk_server::auth::hash_token("admin-token-0001"));
    })
    .await
    else {
        return;
    };
    let (st, doc) = s.get(&format!("{}/openapi.json", s.root)).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");

    // No bare object: every object schema says what it holds.
    let mut all = vec![];
    schemas(&doc, String::new(), &mut all);
    assert!(all.len() > 100, "only {} schemas found", all.len());
    for (at, sch) in &all {
        if sch.get("type").is_some_and(is_object_type) {
            let said = ["properties", "additionalProperties", "allOf", "oneOf", "anyOf", "$ref"]
                .iter()
                .any(|k| sch.get(*k).is_some());
            assert!(said, "a bare object schema at {at}: {sch}");
        }
    }
    // Every reference resolves.
    let mut rs = vec![];
    refs(&doc, &mut rs);
    for r in &rs {
        assert!(resolve(&doc, r).is_some(), "unresolved reference {r}");
    }

    // Every operation: typed bodies, the error envelope on every error status, 401 where it
    // needs credentials, and paging bounds on lists.
    let envelope = "#/components/schemas/ErrorEnvelope";
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            let name = format!("{method} {path}");
            let responses = op["responses"].as_object().unwrap_or_else(|| panic!("{name}: no responses"));
            for (code, r) in responses {
                let r = match r.get("$ref").and_then(Value::as_str) {
                    Some(x) => resolve(&doc, x).unwrap(),
                    None => r,
                };
                if code.starts_with('4') || code.starts_with('5') {
                    assert_eq!(
                        r["content"]["application/json"]["schema"]["$ref"], envelope,
                        "{name} {code}: not the error envelope"
                    );
                } else if code != "101" {
                    assert!(
                        r["content"].as_object().is_some_and(|c| !c.is_empty()),
                        "{name} {code}: no body"
                    );
                }
            }
            for code in ["500", "503"] {
                assert!(responses.contains_key(code), "{name}: {code} missing");
            }
            let public = op.get("security").and_then(Value::as_array).is_some_and(|a| a.is_empty());
            if !public {
                assert!(responses.contains_key("401"), "{name}: 401 missing");
            }
            if path.contains("{account_id}") {
                assert!(responses.contains_key("404"), "{name}: 404 missing");
                assert!(responses.contains_key("400"), "{name}: 400 missing");
            }
            if op.get("requestBody").is_some() {
                for code in ["413", "415"] {
                    assert!(responses.contains_key(code), "{name}: {code} missing");
                }
                let body = &op["requestBody"]["content"]["application/json"]["schema"];
                assert!(body.is_object(), "{name}: untyped body");
            }
            let params = op.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
            for p in &params {
                if p["name"] == "per_page" {
                    assert_eq!(
                        (p["schema"]["minimum"].clone(), p["schema"]["maximum"].clone()),
                        (1.into(), 100.into()),
                        "{name}"
                    );
                }
                if p["name"] == "page_no" {
                    assert_eq!(p["schema"]["minimum"], 1, "{name}");
                }
            }
            let ok_body =
                responses.get("200").map(|r| r["content"]["application/json"]["schema"].to_string());
            if ok_body.unwrap_or_default().contains("paging") && method == "get" && !path.ends_with("/chat") {
                assert!(
                    params.iter().any(|p| p["name"] == "per_page"),
                    "{name}: a list without paging parameters"
                );
            }
        }
    }
    // String maxima from limits.rs.
    let text = doc.to_string();
    assert!(text.contains("\"maxLength\":256"), "NAME_CHARS");
    assert!(text.contains("\"maxLength\":2048"), "URL_CHARS");
    assert!(text.contains("\"maxLength\":1000"), "POLL_QUESTION_CHARS");

    // Every documented path is routed: a request with its methods is answered by its route
    // (any answer but the router's "no such route" 404 and its 405).
    for (path, item) in paths {
        let concrete = path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "x" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        for method in item.as_object().unwrap().keys() {
            let Ok(m) = method.to_uppercase().parse::<Method>() else { continue };
            if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&m.as_str()) {
                continue;
            }
            let r = s
                .http
                .request(m.clone(), format!("{}{concrete}", s.root))
                .bearer_auth(&s.token)
                .send()
                .await
                .unwrap();
            let st = r.status();
            let body = r.text().await.unwrap();
            assert_ne!(st, StatusCode::METHOD_NOT_ALLOWED, "{m} {path} is documented but not routed");
            assert!(!body.contains("no such route"), "{m} {path} is documented but not routed: {st} {body}");
        }
    }
    // And every route is documented: the routes outside the API, and as many API routes as
    // the router has (its `MatchedPath`s, counted from the metrics it keeps after a call to each).
    for p in OTHER_ROUTES {
        assert!(paths.contains_key(*p), "{p} is routed but missing from the document");
    }
    let api: Vec<&String> = paths.keys().filter(|p| p.starts_with("/accounts/")).collect();
    assert_eq!(api.len(), 40, "API paths: {api:#?}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_routes_are_listed_only_where_they_exist() {
    let Some(s) = TestServer::start(Db::Sqlite).await else { return };
    let (_, doc) = s.get(&format!("{}/openapi.json", s.root)).await;
    for p in ["/_rtk/clock", "/_rtk/reset"] {
        assert!(doc["paths"].get(p).is_none(), "{p} is listed but this server has no such route");
        let (st, _) = s.get(&format!("{}{p}", s.root)).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
    }
    assert!(doc["paths"]["/healthz"].is_object());
    // Operational routes are at the root only.
    assert_eq!(doc["paths"]["/healthz"]["servers"][0]["url"], "/");
    let (st, _) = s.get(&format!("{}/client/v4/healthz", s.root)).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    s.stop().await;
}
