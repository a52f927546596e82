//! `rtk apps|presets|meetings|participants|sessions|webhooks|livestreams`, `rtk simulate` and `rtk completions`,
//! driven as a user's script would drive them, against a real `rtk serve`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

/// `rtk serve` on a random port with its data in `<dir>/rtk-data` (so commands run in `dir`
/// find `./rtk-data/credentials.json`). Stopped on drop.
struct Server {
    child: Child,
    base: String,
    dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}

fn serve() -> Server {
    serve_with(&[])
}

fn serve_with(extra: &[&str]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("rtk-data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_rtk"))
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json", "--data-dir"])
        .arg(&data)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("rtk logs").unwrap();
        let v: Value = serde_json::from_str(&line).unwrap();
        if let Some(a) = v["fields"]["addr"].as_str() {
            break a.to_string();
        }
    };
    // Keep draining the logs so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server { child, base: format!("http://{addr}"), dir }
}

impl Server {
    fn creds(&self) -> (String, String) {
        let c: Value = serde_json::from_slice(
            &std::fs::read(self.dir.path().join("rtk-data/credentials.json")).unwrap(),
        )
        .unwrap();
        (c["account_id"].as_str().unwrap().into(), c["api_token"].as_str().unwrap().into())
    }

    /// `rtk ARGS` in the server's directory, with no credentials in the environment.
    fn rtk_in(&self, cwd: &Path, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_rtk"))
            .args(args)
            .current_dir(cwd)
            .env("RTK_BASE_URL", &self.base)
            .env_remove("RTK_ACCOUNT_ID")
            .env_remove("RTK_API_TOKEN")
            .env_remove("RTK_APP_ID")
            .env_remove("RTK_MEETING_ID")
            .env_remove("RTK_DATA_DIR")
            .output()
            .expect("rtk runs")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.rtk_in(self.dir.path(), args);
        assert!(out.status.success(), "rtk {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.push("--json");
        let out = self.ok(&a);
        serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("rtk {args:?} --json printed no JSON ({e}): {out}"))
    }

    fn fails(&self, args: &[&str]) -> String {
        let out = self.rtk_in(self.dir.path(), args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "rtk {args:?} should fail: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stderr).unwrap()
    }
}

const PRESET: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/examples/preset.json");

#[test]
fn resource_commands() {
    let s = serve();
    let app = s.json(&["apps", "create", "demo"]);
    assert_eq!(app["name"], "demo");
    let app = app["id"].as_str().unwrap().to_string();
    let apps = s.json(&["apps", "list"]);
    assert_eq!(apps.as_array().unwrap().len(), 1);
    assert_eq!(apps[0]["id"], app.as_str());
    assert_eq!(s.json(&["apps", "get", &app])["name"], "demo");
    assert!(s.fails(&["apps", "get", "nope"]).contains("No app found with id nope"));
    // The table: a header and one row.
    let table = s.ok(&["apps", "list"]);
    assert!(table.starts_with("ID"), "{table}");
    assert!(table.lines().nth(1).unwrap().contains("demo"), "{table}");

    let preset = s.json(&["presets", "create", "--app", &app, PRESET]);
    assert_eq!(preset["name"], "host");
    let guest = s.json(&["presets", "create", "--app", &app, PRESET, "--name", "guest"]);
    assert_eq!(guest["name"], "guest");
    let presets = s.json(&["presets", "list", "--app", &app]);
    assert_eq!(presets.as_array().unwrap().len(), 2);
    let got = s.json(&["presets", "get", "--app", &app, guest["id"].as_str().unwrap()]);
    assert_eq!(got["config"]["view_type"], "GROUP_CALL");
    s.json(&["presets", "delete", "--app", &app, guest["id"].as_str().unwrap()]);

    let meeting =
        s.json(&["meetings", "create", "--app", &app, "--title", "Weekly sync", "--keep-alive", "30"]);
    assert_eq!(meeting["title"], "Weekly sync");
    assert_eq!(meeting["session_keep_alive_time_in_secs"], 30.0);
    let meeting = meeting["id"].as_str().unwrap().to_string();
    let updated = s.json(&["meetings", "update", "--app", &app, &meeting, "--status", "INACTIVE"]);
    assert_eq!(updated["status"], "INACTIVE");
    assert_eq!(updated["title"], "Weekly sync");
    assert_eq!(s.json(&["meetings", "list", "--app", &app, "--status", "ACTIVE"]), serde_json::json!([]));
    s.json(&["meetings", "update", "--app", &app, &meeting, "--status", "ACTIVE"]);
    let table = s.ok(&["meetings", "list", "--app", &app]);
    assert!(table.contains("Weekly sync") && table.contains("ACTIVE"), "{table}");

    let p = s.json(&[
        "participants",
        "add",
        "--app",
        &app,
        "--meeting",
        &meeting,
        "--custom-id",
        "user-1",
        "--preset",
        "host",
        "--name",
        "Ada",
    ]);
    assert_eq!(p["custom_participant_id"], "user-1");
    assert!(p["token"].as_str().is_some_and(|t| !t.is_empty()));
    let pid = p["id"].as_str().unwrap().to_string();
    for i in 2..=4 {
        let id = format!("user-{i}");
        s.json(&[
            "participants",
            "add",
            "--app",
            &app,
            "--meeting",
            &meeting,
            "--custom-id",
            &id,
            "--preset",
            "host",
        ]);
    }
    // Every page, and one page.
    let all = s.json(&["participants", "list", "--app", &app, "--meeting", &meeting, "--per-page", "3"]);
    assert_eq!(all.as_array().unwrap().len(), 4);
    let page2 = s.json(&[
        "participants",
        "list",
        "--app",
        &app,
        "--meeting",
        &meeting,
        "--per-page",
        "3",
        "--page",
        "2",
    ]);
    assert_eq!(page2.as_array().unwrap().len(), 1);
    let edited =
        s.json(&["participants", "edit", "--app", &app, "--meeting", &meeting, &pid, "--name", "Ada L."]);
    assert_eq!(edited["name"], "Ada L.");
    let token = s.json(&["participants", "token", "--app", &app, "--meeting", &meeting, &pid]);
    assert!(token["token"].as_str().is_some());
    s.json(&["participants", "delete", "--app", &app, "--meeting", &meeting, &pid]);

    // Errors: the server's message, status 1.
    let e = s.fails(&["participants", "get", "--app", &app, "--meeting", &meeting, &pid]);
    assert!(e.contains(&format!("No participant found with id {pid}")), "{e}");
    assert!(e.starts_with("rtk: ") && !e.contains("backtrace"), "{e}");
    let e = s.fails(&["meetings", "get", "--app", "nope", "x"]);
    assert!(e.contains("404") && e.contains("No app found with id nope"), "{e}");
    let e = s.fails(&["apps", "list", "--token", "rtk_wrong"]);
    assert!(e.contains("401"), "{e}");

    // Elsewhere there is no credentials file: flags (or RTK_* variables) are needed.
    let elsewhere = tempfile::tempdir().unwrap();
    let out = s.rtk_in(elsewhere.path(), &["apps", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no account"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (acc, tok) = s.creds();
    let out = s.rtk_in(elsewhere.path(), &["apps", "list", "--json", "--account", &acc, "--token", &tok]);
    assert!(out.status.success());
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed[0]["id"], app.as_str());

    // No sessions yet; the chat of an unknown session is a 404.
    assert_eq!(s.json(&["sessions", "list", "--app", &app]), serde_json::json!([]));
    let e = s.fails(&["sessions", "chat", "--app", &app, "nope"]);
    assert!(e.contains("No session found with id nope"), "{e}");
}

#[test]
fn simulate_then_inspect_sessions() {
    let s = serve();
    let r = s.json(&["simulate", "--meetings", "2", "--participants", "3", "--duration", "1s"]);
    assert_eq!(r["joins"], 6, "{r}");
    assert_eq!(r["leaves"], 6);
    assert_eq!(r["failed_joins"], 0);
    assert_eq!(r["total_sessions"], 2);
    let meetings = r["meetings"].as_array().unwrap();
    assert_eq!(meetings.len(), 2);
    for m in meetings {
        assert_eq!(m["sessions"], 1, "{m}");
        assert_eq!(m["live_participants_before_leaving"], 3, "{m}");
        assert_eq!(m["live_participants"], 0, "everyone left: {m}");
        assert_eq!(m["max_concurrent_participants"], 3, "{m}");
        assert!(m["minutes_consumed"].as_f64().unwrap() > 0.0, "{m}");
    }
    let app = r["app_id"].as_str().unwrap();
    let sessions = s.json(&["sessions", "list", "--app", app]);
    assert_eq!(sessions.as_array().unwrap().len(), 2);
    let sid = sessions[0]["id"].as_str().unwrap();
    let people = s.json(&["sessions", "participants", "--app", app, sid]);
    assert_eq!(people.as_array().unwrap().len(), 3);
    assert!(people.as_array().unwrap().iter().all(|p| p["left_at"].is_string()));
    let details = s.json(&["sessions", "get", "--app", app, sid, "--breakout-rooms"]);
    assert_eq!(details["id"], sid);
    assert_eq!(details["max_concurrent_participants"], 3);

    // Churn, in the same app: more joins than participants, and the summary as a table.
    let out = s.ok(&["simulate", "--app", app, "--participants", "3", "--duration", "1200ms", "--churn"]);
    assert!(out.starts_with("Simulated 1 meeting(s) in app"), "{out}");
    assert!(out.contains("participant-minutes in all"), "{out}");
    let joins: usize =
        out.split(": ").nth(1).and_then(|t| t.split(' ').next()).and_then(|n| n.parse().ok()).unwrap();
    assert!(joins >= 3, "{out}");
    assert_eq!(s.json(&["sessions", "list", "--app", app]).as_array().unwrap().len(), 3);

    // Runs without --app share one app; --cleanup leaves no participants and no ACTIVE meeting.
    let again = s.json(&["simulate", "--participants", "2", "--duration", "300ms", "--cleanup"]);
    assert_eq!(again["app_id"], app, "the same app: {again}");
    assert_eq!(again["cleaned_up"], true);
    assert_eq!(s.json(&["apps", "list"]).as_array().unwrap().len(), 1, "no app left behind");
    let mid = again["meetings"][0]["meeting_id"].as_str().unwrap();
    assert_eq!(s.json(&["meetings", "get", "--app", app, mid])["status"], "INACTIVE");
    assert_eq!(s.json(&["participants", "list", "--app", app, "--meeting", mid]), serde_json::json!([]));
}

#[test]
fn completions_and_help() {
    let rtk = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_rtk")).args(args).output().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let out = rtk(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(
            script.contains("simulate") && script.contains("meetings") && script.contains("serve"),
            "{shell}"
        );
    }
    assert!(!rtk(&["completions", "tcsh"]).status.success());
    for cmd in [
        "serve",
        "account",
        "token",
        "keys",
        "fixtures",
        "join",
        "import",
        "export",
        "apps",
        "presets",
        "meetings",
        "participants",
        "sessions",
        "webhooks",
        "recordings",
        "livestreams",
        "simulate",
        "completions",
    ] {
        let out = rtk(&[cmd, "--help"]);
        let help = String::from_utf8(out.stdout).unwrap();
        assert!(help.contains("Example"), "rtk {cmd} --help shows examples: {help}");
    }
    let top = String::from_utf8(rtk(&["--help"]).stdout).unwrap();
    assert!(top.contains("rtk simulate") && top.contains("rtk serve"), "{top}");
}

/// `rtk serve --clock manual=…`: the admin clock answers with the admin token given, and moves.
#[tokio::test]
async fn serve_on_a_manual_clock() {
    let s = serve_with(&["--clock", "manual=2026-03-01T12:00:00Z", "--admin-token", "adm-token-1"]);
    let http = reqwest::Client::new();
    let r = http.get(format!("{}/_rtk/clock", s.base)).bearer_auth("adm-token-1").send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["data"]["now"], "2026-03-01T12:00:00.000Z");
    let r = http
        .post(format!("{}/_rtk/clock/advance", s.base))
        .bearer_auth("adm-token-1")
        .json(&serde_json::json!({"seconds": 90}))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["data"]["now"], "2026-03-01T12:01:30.000Z", "{v}");
    // Without --admin-token one is made and kept in the data directory, owner-only.
    let s = serve_with(&["--clock", "manual"]);
    let file = s.dir.path().join("rtk-data/admin-token");
    let token = std::fs::read_to_string(&file).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let r = http.get(format!("{}/_rtk/clock", s.base)).bearer_auth(token.trim()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // A clock that is neither is refused before anything starts.
    let out = Command::new(env!("CARGO_BIN_EXE_rtk"))
        .args(["serve", "--listen", "127.0.0.1:0", "--clock", "manual=yesterday"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an RFC 3339 time"), "{out:?}");
    // So is an admin token too short to be a secret.
    let out = Command::new(env!("CARGO_BIN_EXE_rtk"))
        .args(["serve", "--listen", "127.0.0.1:0", "--clock", "manual", "--admin-token", "x"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 8"), "{out:?}");
}

/// A webhook receiver on loopback (a thread): answers the scripted statuses in turn (then
/// 200) and sends each request's `rtk-uuid` and body down a channel.
fn receiver(script: &'static [u16]) -> (String, std::sync::mpsc::Receiver<(String, String)>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for (n, conn) in listener.incoming().enumerate() {
            let mut conn = conn.unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let head_end = loop {
                let k = conn.read(&mut chunk).unwrap();
                assert!(k > 0, "the request ended early");
                buf.extend_from_slice(&chunk[..k]);
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break i + 4;
                }
            };
            let head = String::from_utf8_lossy(&buf[..head_end]).to_lowercase();
            let header = |name: &str| {
                head.lines()
                    .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(|v| v.trim().to_string()))
                    .unwrap_or_default()
            };
            let len: usize = header("content-length").parse().unwrap();
            while buf.len() < head_end + len {
                let k = conn.read(&mut chunk).unwrap();
                assert!(k > 0, "the body ended early");
                buf.extend_from_slice(&chunk[..k]);
            }
            let body = String::from_utf8(buf[head_end..head_end + len].to_vec()).unwrap();
            let status = script.get(n).copied().unwrap_or(200);
            write!(conn, "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").unwrap();
            if tx.send((header("rtk-uuid"), body)).is_err() {
                return;
            }
        }
    });
    (url, rx)
}

#[test]
fn webhook_commands() {
    let s = serve();
    let app = s.json(&["apps", "create", "hooked"])["id"].as_str().unwrap().to_string();
    s.json(&["presets", "create", "--app", &app, PRESET]);
    let (url, got) = receiver(&[400]);

    // Validation and duplicates: the server's message, status 1.
    let e = s.fails(&[
        "webhooks",
        "create",
        "--app",
        &app,
        "--name",
        "x",
        "--url",
        &url,
        "--events",
        "meeting.exploded",
    ]);
    assert!(e.contains("400") && e.contains("events[0]"), "{e}");
    let e = s.fails(&[
        "webhooks",
        "create",
        "--app",
        &app,
        "--name",
        "x",
        "--url",
        "ftp://h/x",
        "--events",
        "meeting.started",
    ]);
    assert!(e.contains("400"), "{e}");

    let w = s.json(&[
        "webhooks",
        "create",
        "--app",
        &app,
        "--name",
        "rx",
        "--url",
        &url,
        "--events",
        "meeting.started,meeting.participantJoined",
        "--disabled",
    ]);
    assert_eq!(w["enabled"], false);
    assert_eq!(w["events"], serde_json::json!(["meeting.started", "meeting.participantJoined"]));
    let id = w["id"].as_str().unwrap().to_string();
    let e = s.fails(&[
        "webhooks",
        "create",
        "--app",
        &app,
        "--name",
        "dup",
        "--url",
        &url,
        "--events",
        "meeting.ended",
    ]);
    assert!(e.contains("409"), "{e}");
    assert_eq!(s.json(&["webhooks", "get", "--app", &app, &id]), w);
    let list = s.json(&["webhooks", "list", "--app", &app]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let table = s.ok(&["webhooks", "list", "--app", &app]);
    assert!(table.starts_with("ID") && table.lines().nth(1).unwrap().contains(&url), "{table}");
    // Update changes only what is given.
    let on = s.json(&["webhooks", "update", "--app", &app, &id, "--enabled", "true"]);
    assert_eq!(
        (on["enabled"].clone(), on["name"].clone(), on["events"].clone()),
        (true.into(), w["name"].clone(), w["events"].clone())
    );
    let renamed = s.json(&["webhooks", "update", "--app", &app, &id, "--name", "receiver"]);
    assert_eq!((renamed["name"].clone(), renamed["enabled"].clone()), ("receiver".into(), true.into()));

    // A real join: started (answered 400, so failed) and joined (delivered).
    let meeting = s.json(&["meetings", "create", "--app", &app, "--title", "hooked"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let p = s.json(&[
        "participants",
        "add",
        "--app",
        &app,
        "--meeting",
        &meeting,
        "--custom-id",
        "ada",
        "--preset",
        "host",
    ]);
    let mut join = Command::new(env!("CARGO_BIN_EXE_rtk"))
        .args(["join", "--base-url", &s.base, "--token", p["token"].as_str().unwrap()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut join_out = BufReader::new(join.stdout.take().unwrap()).lines();
    let first = join_out.next().unwrap().unwrap();
    assert!(first.contains("\"joined\""), "{first}");
    let wait = || got.recv_timeout(std::time::Duration::from_secs(30)).expect("a delivery in time");
    let (started_uuid, started_body) = wait();
    let (joined_uuid, _) = wait();
    assert!(started_body.contains("\"event\":\"meeting.started\""), "{started_body}");

    let log = s.json(&["webhooks", "deliveries", "--app", &app, &id]);
    let rows: Vec<(String, String, String)> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["id"].as_str().unwrap().into(),
                d["event"].as_str().unwrap().into(),
                d["state"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (joined_uuid.clone(), "meeting.participantJoined".into(), "delivered".into()),
            (started_uuid.clone(), "meeting.started".into(), "failed".into())
        ]
    );
    assert_eq!(log[1]["log"][0]["status"], 400);
    let failed = s.json(&["webhooks", "deliveries", "--app", &app, &id, "--state", "failed"]);
    assert_eq!(failed.as_array().unwrap().len(), 1);
    let table = s.ok(&["webhooks", "deliveries", "--app", &app, &id, "--limit", "1"]);
    assert_eq!(table.lines().count(), 2, "{table}");
    assert!(
        table.starts_with("ID") && table.contains(&joined_uuid) && table.contains("delivered"),
        "{table}"
    );

    // Redeliver the failed one: the same rtk-uuid and body reach the receiver.
    let out = s.ok(&["webhooks", "redeliver", "--app", &app, &id, &started_uuid]);
    assert!(out.contains(&started_uuid) && out.contains("pending"), "{out}");
    assert_eq!(wait(), (started_uuid.clone(), started_body));
    // The log records it (the attempt is written as the answer comes: poll the API).
    let state = |s: &Server| {
        s.json(&["webhooks", "deliveries", "--app", &app, &id, "--state", "failed"]).as_array().unwrap().len()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while state(&s) != 0 {
        assert!(std::time::Instant::now() < deadline, "the redelivery was never recorded");
    }
    let e = s.fails(&["webhooks", "redeliver", "--app", &app, &id, "nope"]);
    assert!(e.contains("404"), "{e}");

    let _ = Command::new("kill").args(["-TERM", &join.id().to_string()]).status();
    let rest: Vec<String> = join_out.map(|l| l.unwrap()).collect();
    assert_eq!(rest.last().map(String::as_str), Some(r#"{"type":"left"}"#), "{rest:?}");
    assert!(join.wait().unwrap().success());
    let deleted = s.json(&["webhooks", "delete", "--app", &app, &id]);
    assert_eq!(deleted["id"], id.as_str());
    let e = s.fails(&["webhooks", "get", "--app", &app, &id]);
    assert!(e.contains("404"), "{e}");
}

/// `rtk livestreams …` on a server with an RTMP listener (the ingest itself is tested with
/// ffmpeg in rtk-server's tests/it/livestreams.rs).
#[test]
fn livestream_commands() {
    let s = serve_with(&["--rtmp-listen", "127.0.0.1:0"]);
    let app = s.json(&["apps", "create", "live"])["id"].as_str().unwrap().to_string();
    let meeting = s.json(&["meetings", "create", "--app", &app, "--title", "Keynote"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let started =
        s.json(&["livestreams", "start", "--app", &app, &meeting, "--name", "keynote", "--width", "1280"]);
    assert_eq!(started["status"], "INVOKED", "{started}");
    assert!(started["ingest_server"].as_str().unwrap().starts_with("rtmp://127.0.0.1:"), "{started}");
    let id = started["id"].as_str().unwrap().to_string();
    let e = s.fails(&["livestreams", "start", "--app", &app, &meeting]);
    assert!(e.contains("409"), "{e}");
    let active = s.json(&["livestreams", "active", "--app", &app, &meeting]);
    assert_eq!((active["id"].as_str(), active["name"].as_str()), (Some(id.as_str()), Some("keynote")));
    let e = s.fails(&["livestreams", "live", "--app", &app, &id]);
    assert!(e.contains("404"), "not live before a publisher connects: {e}");

    let cam = s.json(&["livestreams", "create", "--app", &app, "--name", "cam"]);
    assert_eq!((cam["disabled"].as_bool(), cam["meeting_id"].as_str()), (Some(false), None), "{cam}");
    let list = s.json(&["livestreams", "list", "--app", &app]);
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    let only = s.json(&["livestreams", "list", "--app", &app, "--independent"]);
    assert_eq!(only[0]["id"], cam["id"], "{only}");
    let table = s.ok(&["livestreams", "list", "--app", &app, "--status", "INVOKED"]);
    assert_eq!(table.lines().count(), 3, "a header and two rows: {table}");

    let stopped = s.json(&["livestreams", "stop", "--app", &app, &meeting]);
    assert!(stopped["message"].as_str().unwrap().contains(&id), "{stopped}");
    let got = s.json(&["livestreams", "get", "--app", &app, &id]);
    assert_eq!(
        (got["livestream"]["status"].as_str(), got["livestream"]["disabled"].as_str()),
        (Some("IDLE"), Some("true"))
    );
    assert_eq!(got["paging"]["total_count"], 0);
    let e = s.fails(&["livestreams", "session", "--app", &app, "nope"]);
    assert!(e.contains("nope"), "{e}");
    let totals = s.json(&["livestreams", "analytics", "--app", &app]);
    assert_eq!(totals, serde_json::json!({"count": 0, "total_ingest_seconds": 0, "total_viewer_seconds": 0}));
    let daily = s.json(&["livestreams", "analytics", "--app", &app, "--daily"]);
    assert_eq!(daily.as_array().unwrap().len(), 30, "{daily}");
}
