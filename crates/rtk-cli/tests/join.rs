//! `rtk join`: a terminal participant, driven as a script would drive it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn rtk() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rtk"))
}

#[tokio::test]
async fn join_prints_events_and_leaves_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let mut server = rtk()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", d, "--log-format", "json"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("rtk logs").unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        if let Some(a) = v["fields"]["addr"].as_str() {
            break a.to_string();
        }
    };
    let creds: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("credentials.json")).unwrap()).unwrap();
    let (acc, tok) = (creds["account_id"].as_str().unwrap(), creds["api_token"].as_str().unwrap());
    let http = reqwest::Client::new();
    let kit = format!("http://{addr}/client/v4/accounts/{acc}/realtime/kit");
    let post = |url: String, body: serde_json::Value| {
        let http = http.clone();
        let tok = tok.to_string();
        async move {
            let r = http.post(url).bearer_auth(tok).json(&body).send().await.unwrap();
            assert!(r.status().is_success());
            r.json::<serde_json::Value>().await.unwrap()
        }
    };
    let app = post(format!("{kit}/apps"), serde_json::json!({"name": "cli"})).await["data"]["app"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let preset: serde_json::Value =
        serde_json::from_str(include_str!("../../../docs/examples/preset.json")).unwrap();
    post(format!("{kit}/{app}/presets"), preset).await;
    let meeting = post(format!("{kit}/{app}/meetings"), serde_json::json!({"title": "t"})).await["data"]
        ["id"]
        .as_str()
        .unwrap()
        .to_string();
    let p = post(
        format!("{kit}/{app}/meetings/{meeting}/participants"),
        serde_json::json!({"custom_participant_id": "u1", "preset_name": "host", "name": "Terminal"}),
    )
    .await;
    let token = p["data"]["token"].as_str().unwrap();

    let mut join = rtk()
        .args([
            "join",
            "--base-url",
            &format!("http://{addr}"),
            "--token",
            token,
            "--device",
            r#"{"os":"linux"}"#,
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(join.stdout.take().unwrap()).lines();
    let first: serde_json::Value = serde_json::from_str(&out.next().unwrap().unwrap()).unwrap();
    assert_eq!(first["type"], "joined");
    let sid = first["session_id"].as_str().unwrap().to_string();
    let details = |sid: String| {
        let http = http.clone();
        let url = format!("{kit}/{app}/sessions/{sid}");
        let tok = tok.to_string();
        async move {
            http.get(url).bearer_auth(tok).send().await.unwrap().json::<serde_json::Value>().await.unwrap()
        }
    };
    assert_eq!(details(sid.clone()).await["data"]["session"]["live_participants"], 1);
    assert!(Command::new("kill").args(["-TERM", &join.id().to_string()]).status().unwrap().success());
    let rest: Vec<String> = out.map(|l| l.unwrap()).collect();
    assert_eq!(rest.last().map(String::as_str), Some(r#"{"type":"left"}"#), "{rest:?}");
    assert!(join.wait().unwrap().success(), "exit 0 after a clean leave");
    let d = details(sid).await;
    assert_eq!(d["data"]["session"]["live_participants"], 0, "the leave was recorded");
    let _ = Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
    let _ = server.wait();
}
