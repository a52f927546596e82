//! Failures map to the one typed error, with the server's own messages and the request.

use reqwest::{Method, StatusCode};
use rtk_client::params::*;
use rtk_client::{Client, ClientBuilder, Error};

use crate::harness::{env, preset_doc};

#[tokio::test]
async fn unauthorized_not_found_and_bad_request() {
    let env = env().await;
    let bad =
        Client::builder().base_url(&env.base).api_token("rtk_not-a-token").max_retries(0).build().unwrap();
    let e = bad.realtime_kit().apps().get(&AppListParams::new(&env.account)).await.unwrap_err();
    assert!(e.is_unauthorized(), "{e}");
    assert_eq!(e.status(), Some(StatusCode::UNAUTHORIZED));
    assert!(!e.errors().is_empty());
    assert_eq!(e.errors()[0].code, 401);
    let req = e.request().unwrap();
    assert_eq!(req.method, Method::GET);
    assert_eq!(req.url, format!("{}/accounts/{}/realtime/kit/apps", env.base, env.account));

    let kit = env.client.realtime_kit();
    let e =
        kit.meetings().get_meeting_by_id("nope", "m", &AccountParams::new(&env.account)).await.unwrap_err();
    assert!(e.is_not_found());
    assert_eq!(e.message(), Some("No app found with id nope"));
    assert!(e.to_string().contains("No app found with id nope"), "{e}");
    assert!(e.to_string().starts_with("GET http://"), "{e}");

    let e = kit
        .apps()
        .post(&AppPostParams { account_id: env.account.clone(), name: " ".into() })
        .await
        .unwrap_err();
    assert!(e.is_bad_request());
    assert_eq!(e.message(), Some("\"name\" must be 1 to 256 characters"));
    assert_eq!(e.request().unwrap().method, Method::POST);
    let Error::Api { body, .. } = &e else { panic!("an API error: {e:?}") };
    let v: serde_json::Value = serde_json::from_slice(body).unwrap();
    assert_eq!(v["success"], false);

    // Every bad field of a document is named.
    let mut doc = preset_doc();
    doc["name"] = "broken".into();
    doc["config"]["view_type"] = "NOPE".into();
    doc["ui"]["design_tokens"]["theme"] = 7.into();
    let e =
        kit.presets().create(&env.app, &PresetParams::from_document(&env.account, doc)).await.unwrap_err();
    assert!(e.is_bad_request());
    assert_eq!(e.errors().len(), 2, "{:?}", e.errors());
    assert!(e.errors().iter().any(|x| x.message.contains("config.view_type")), "{:?}", e.errors());

    // A duplicate is a conflict (409 is retried like the SDKs do; this client retries never).
    let e = kit
        .presets()
        .create(&env.app, &PresetParams::from_document(&env.account, preset_doc()))
        .await
        .unwrap_err();
    assert!(e.is_conflict(), "{e}");

    // Another account's resources are 404.
    let e = kit.apps().get(&AppListParams::new("someone-else")).await.unwrap_err();
    assert!(e.is_not_found() || e.is_unauthorized(), "{e}");
}

#[tokio::test]
async fn empty_ids_are_refused_before_any_request() {
    let env = env().await;
    let kit = env.client.realtime_kit();
    let e = kit
        .sessions()
        .get_session_details(&env.app, "", &GetSessionDetailsParams::new(&env.account))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidRequest(ref m) if m.contains("session_id")), "{e}");
    assert!(e.request().is_none());
    let e = kit.apps().get(&AppListParams::new("")).await.unwrap_err();
    assert!(matches!(e, Error::InvalidRequest(ref m) if m.contains("account_id")), "{e}");
    let e =
        kit.presets().get_preset_by_id(&env.app, "..", &AccountParams::new(&env.account)).await.unwrap_err();
    assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
}

#[tokio::test]
async fn ids_are_path_encoded() {
    let env = env().await;
    let e = env
        .client
        .realtime_kit()
        .meetings()
        .get_meeting_by_id(&env.app, "a/b?c", &AccountParams::new(&env.account))
        .await
        .unwrap_err();
    assert!(e.is_not_found());
    assert!(e.request().unwrap().url.ends_with("/meetings/a%2Fb%3Fc"), "{}", e.request().unwrap().url);
    assert_eq!(e.message(), Some("No meeting found with id a/b?c"));
}

#[tokio::test]
async fn email_and_key_auth_and_the_environment() {
    let env = env().await;
    let vars = |k: &str| match k {
        "RTK_BASE_URL" => Some(env.base.clone()),
        "CLOUDFLARE_EMAIL" => Some(rtk_server::admin::DEFAULT_EMAIL.to_string()),
        "CLOUDFLARE_API_KEY" => Some(env.token.clone()),
        _ => None,
    };
    let client = ClientBuilder::from_env_with(vars).build().unwrap();
    assert_eq!(client.base_url(), format!("{}/", env.base));
    let apps = client.realtime_kit().apps().get(&AppListParams::new(&env.account)).await.unwrap();
    assert_eq!(apps.data.len(), 1);

    let token_only = |k: &str| match k {
        "CLOUDFLARE_BASE_URL" => Some(format!("{}/client/v4", env.base)),
        "CLOUDFLARE_API_TOKEN" => Some(env.token.clone()),
        _ => None,
    };
    let client = ClientBuilder::from_env_with(token_only).build().unwrap();
    assert!(client.realtime_kit().apps().get(&AppListParams::new(&env.account)).await.is_ok());

    let nothing = ClientBuilder::from_env_with(|_| None);
    assert_eq!(nothing.build().unwrap().base_url(), "https://api.cloudflare.com/client/v4");
    let e = Client::builder().base_url("ftp://x").build().unwrap_err();
    assert!(matches!(e, Error::Config(_)), "{e}");
}
