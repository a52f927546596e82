//! What several CLI test binaries need: a participant to join with, made over the API.

use std::path::Path;

/// A participant of a new app and meeting on the server at `addr`, made through the API with
/// the first-start credentials in `data_dir`: (API token, account, participant token, the
/// app's API URL).
pub async fn participant(addr: &str, data_dir: &Path, name: &str) -> (String, String, String, String) {
    let creds: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data_dir.join("credentials.json")).unwrap()).unwrap();
    let (acc, tok) =
        (creds["account_id"].as_str().unwrap().to_string(), creds["api_token"].as_str().unwrap().to_string());
    let http = reqwest::Client::new();
    let kit = format!("http://{addr}/client/v4/accounts/{acc}/realtime/kit");
    let post = |url: String, body: serde_json::Value| {
        let (http, tok) = (http.clone(), tok.clone());
        async move {
            let r = http.post(url).bearer_auth(tok).json(&body).send().await.unwrap();
            assert!(r.status().is_success());
            r.json::<serde_json::Value>().await.unwrap()
        }
    };
    let id = |v: &serde_json::Value| v.as_str().unwrap().to_string();
    let app = id(&post(format!("{kit}/apps"), serde_json::json!({"name": "cli"})).await["data"]["app"]["id"]);
    let preset: serde_json::Value =
        serde_json::from_str(include_str!("../../../../docs/examples/preset.json")).unwrap();
    post(format!("{kit}/{app}/presets"), preset).await;
    let meeting =
        id(&post(format!("{kit}/{app}/meetings"), serde_json::json!({"title": "t"})).await["data"]["id"]);
    let p = post(
        format!("{kit}/{app}/meetings/{meeting}/participants"),
        serde_json::json!({"custom_participant_id": "u1", "preset_name": "host", "name": name}),
    )
    .await;
    (tok, acc, id(&p["data"]["token"]), format!("{kit}/{app}"))
}
