//! `rtk import`, `rtk export`, `rtk fixtures schema` and `rtk serve --fixtures`, driven as a
//! user's script would drive them (docs/fixtures.md).

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

fn rtk() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rtk"))
}

fn out(args: &[&str]) -> Output {
    rtk().args(args).output().expect("rtk runs")
}

fn run(args: &[&str]) -> (String, String) {
    let o = out(args);
    assert!(o.status.success(), "rtk {args:?} failed: {}", String::from_utf8_lossy(&o.stderr));
    (String::from_utf8(o.stdout).unwrap(), String::from_utf8(o.stderr).unwrap())
}

/// The canonical example (as `rtk export` writes it).
const CANONICAL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/examples/fixtures.json");

#[test]
fn import_is_idempotent_and_export_round_trips_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    let d = d.to_str().unwrap();
    let (_, err) = run(&["import", CANONICAL, "--data-dir", d, "--dry-run"]);
    assert!(err.starts_with("would write 1 accounts, 1 api_tokens, 1 apps, 1 chat, 2 meetings"), "{err}");
    let (stdout, _) = run(&["export", "--data-dir", d]);
    assert_eq!(stdout, "{\n  \"rtk_fixtures\": 1\n}\n", "a dry run writes nothing");
    let (_, err) = run(&["import", CANONICAL, "--data-dir", d]);
    assert!(err.contains("2 sessions, 1 webhooks; 0 entries already stored as given"), "{err}");
    let (_, err) = run(&["import", CANONICAL, "--data-dir", d]);
    assert_eq!(err, "wrote nothing; 11 entries already stored as given\n");
    let (exported, _) = run(&["export", "--data-dir", d]);
    assert_eq!(exported, std::fs::read_to_string(CANONICAL).unwrap(), "import → export is byte-identical");
    // Export → import into an empty store → export.
    let file = dir.path().join("out.json");
    run(&["export", "--data-dir", d, "--output", file.to_str().unwrap()]);
    let e = dir.path().join("empty");
    run(&["import", file.to_str().unwrap(), "--data-dir", e.to_str().unwrap()]);
    let (again, _) = run(&["export", "--data-dir", e.to_str().unwrap()]);
    assert_eq!(again, exported);
}

#[test]
fn errors_name_file_entry_and_field_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    let d = d.to_str().unwrap();
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(CANONICAL).unwrap()).unwrap();
    v["participants"][1]["preset_name"] = "guest".into();
    v["sessions"][0]["peers"][0]["left_at"] = "2026-01-05T08:00:00Z".into();
    v["meetings"][1]["status"] = "OPEN".into();
    let f = dir.path().join("fixtures.json");
    std::fs::write(&f, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    let fs = f.to_str().unwrap();
    let o = out(&["import", fs, "--data-dir", d]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines,
        vec![
            format!("{fs}: meetings[1] (id \"abcdef-ghijkl\"): \"status\" must be one of ACTIVE, INACTIVE").as_str(),
            format!("{fs}: participants[1] (id \"p-bob\"): \"preset_name\" must name a preset of app \"app1\" (in the file or the store)").as_str(),
            format!("{fs}: sessions[0] (id \"s-1\"): peers[0] (id \"peer-a1\"): \"left_at\" must not be before \"joined_at\"").as_str(),
            "rtk: 3 error(s); nothing was written",
        ],
        "{err}"
    );
    let (exported, _) = run(&["export", "--data-dir", d]);
    assert_eq!(exported, "{\n  \"rtk_fixtures\": 1\n}\n", "nothing was written");
}

#[test]
fn schema_is_printed() {
    let (s, _) = run(&["fixtures", "schema"]);
    let v: serde_json::Value = serde_json::from_str(&s).expect("the schema is JSON");
    assert_eq!(v["properties"]["rtk_fixtures"]["const"], 1);
    assert_eq!(
        s,
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/fixtures.schema.json"))
            .unwrap()
    );
}

#[tokio::test]
async fn serve_with_fixtures_answers_with_their_ids_and_credentials() {
    let mut child = rtk()
        .args([
            "serve",
            "--ephemeral",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--fixtures",
            CANONICAL,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut applied = false;
    let addr = loop {
        let line = lines.next().expect("rtk logs before exiting").unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).expect("JSON logs");
        applied |= v["fields"]["message"] == "fixtures applied";
        if let Some(a) = v["fields"]["addr"].as_str() {
            break a.to_string();
        }
    };
    assert!(applied);
    let r = reqwest::Client::new()
        .get(format!("http://{addr}/client/v4/accounts/acc-ci/realtime/kit/app1/sessions/s-1/participants"))
        .bearer_auth("ci-token-123456")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    let names: Vec<&str> = v["data"]["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["display_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Alice", "Bob"]);
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    assert!(child.wait().unwrap().success());

    // A bad fixture stops the start, naming the error.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.json");
    std::fs::write(&f, r#"{"rtk_fixtures": 1, "apps": [{"id": "a", "account_id": "nobody", "name": "x"}]}"#)
        .unwrap();
    let o = out(&["serve", "--ephemeral", "--listen", "127.0.0.1:0", "--fixtures", f.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.json: apps[0] (id \"a\"): \"account_id\" must name an account of the file or the store, \"nobody\" is neither"),
        "{err}"
    );
}

/// A server the test started, stopped (SIGTERM, then waited for) however the test ends.
struct Served(std::process::Child);

impl Served {
    /// Stops it and checks that it exited cleanly.
    fn stop(mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.0.id().to_string()).status();
        assert!(self.0.wait().unwrap().success());
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        // After `stop` this finds the process gone; after a failed assertion it ends it.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `rtk serve --ephemeral --fixtures FILE` on a free port: the server and its address.
fn serve_fixtures(file: &str) -> (Served, String) {
    let mut child = rtk()
        .args(["serve", "--ephemeral", "--listen", "127.0.0.1:0", "--log-format", "json", "--fixtures", file])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("rtk logs before exiting").unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).expect("JSON logs");
        if let Some(a) = v["fields"]["addr"].as_str() {
            break a.to_string();
        }
    };
    // Keep reading its log, so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (Served(child), addr)
}

/// `rtk import --from-realtimekit` against another rtk holding the canonical history: the file
/// it writes, imported into an empty store, exports as the canonical file does — less what it
/// cannot or must not copy (API tokens, webhooks).
#[test]
fn from_realtimekit_copies_an_account_through_the_api() {
    let (remote, addr) = serve_fixtures(CANONICAL);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("copy.json");
    let base = format!("http://{addr}/client/v4");
    let (_, err) = run(&[
        "import",
        "--from-realtimekit",
        &base,
        "--account",
        "acc-ci",
        "--token",
        "ci-token-123456",
        "--output",
        file.to_str().unwrap(),
    ]);
    assert!(
        err.contains(
            "read 1 apps, 0 live sessions left out, 2 meetings, 2 participants, 1 presets, 2 sessions"
        ),
        "{err}"
    );
    let d = dir.path().join("data");
    let d = d.to_str().unwrap();
    let (_, err) = run(&["import", file.to_str().unwrap(), "--data-dir", d]);
    assert!(err.contains("2 sessions"), "{err}");
    let (exported, _) = run(&["export", "--data-dir", d]);
    let mut want: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(CANONICAL).unwrap()).unwrap();
    want.as_object_mut().unwrap().retain(|k, _| k != "api_tokens" && k != "webhooks");
    // Recordings are not copied: the API does not tell where a recording paused.
    for sess in want["sessions"].as_array_mut().unwrap() {
        sess.as_object_mut().unwrap().retain(|k, _| k != "recordings");
    }
    let want = serde_json::to_string_pretty(&want).unwrap() + "\n";
    assert_eq!(exported, want, "the copy holds the same history");

    // Straight into a store, and a wrong token is a clear failure that writes nothing.
    let e = dir.path().join("direct");
    let e = e.to_str().unwrap();
    run(&[
        "import",
        "--from-realtimekit",
        &base,
        "--account",
        "acc-ci",
        "--token",
        "ci-token-123456",
        "--data-dir",
        e,
    ]);
    assert_eq!(run(&["export", "--data-dir", e]).0, want);
    let o = out(&[
        "import",
        "--from-realtimekit",
        &base,
        "--account",
        "acc-ci",
        "--token",
        "wrong-token-000",
        "--data-dir",
        e,
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("401"), "{err}");
    remote.stop();
}
