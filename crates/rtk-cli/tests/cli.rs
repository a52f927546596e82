//! The stable command line: `rtk account create`, `rtk token create`, `rtk serve`, driven as
//! a user's script would drive them.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn rtk() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rtk"))
}

fn run(args: &[&str]) -> String {
    let out = rtk().args(args).output().expect("rtk runs");
    assert!(out.status.success(), "rtk {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn account_token_serve_and_graceful_stop() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    // `account create` prints the id alone: 32 hex characters.
    let out = run(&["account", "create", "--data-dir", d]);
    let account = out.trim_end_matches('\n');
    assert_eq!(out.lines().count(), 1);
    assert_eq!(account.len(), 32);
    assert!(account.chars().all(|c| c.is_ascii_hexdigit()));
    let custom = run(&["account", "create", "--data-dir", d, "--id", "acme"]);
    assert_eq!(custom, "acme\n");
    let dup = rtk().args(["account", "create", "--data-dir", d, "--id", "acme"]).output().unwrap();
    assert!(!dup.status.success(), "a duplicate id fails");
    // `token create` prints the token alone.
    let out = run(&["token", "create", "--data-dir", d, "--account", account, "--name", "ci"]);
    let token = out.trim_end_matches('\n').to_string();
    assert_eq!(out.lines().count(), 1);
    assert!(token.starts_with("rtk_"));
    let listed = run(&["token", "list", "--data-dir", d]);
    assert!(listed.contains("ci") && !listed.contains(&token), "list never shows secrets");
    // A fixed value for a test suite to hard-code, usable as Bearer and as X-Auth-Key.
    let fixed = "ci-fixed-token-0001";
    let out = run(&[
        "token",
        "create",
        "--data-dir",
        d,
        "--account",
        "acme",
        "--email",
        "ci@example.com",
        "--value",
        fixed,
    ]);
    assert_eq!(out, format!("{fixed}\n"));
    let dup = rtk()
        .args(["token", "create", "--data-dir", d, "--account", "acme", "--value", fixed])
        .output()
        .unwrap();
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("already exists"), "{dup:?}");
    let weak = rtk()
        .args(["token", "create", "--data-dir", d, "--account", "acme", "--value", "short"])
        .output()
        .unwrap();
    assert!(!weak.status.success(), "too short a value is refused");

    // Serve on the same store: accounts exist, so no first-start banner and no credentials file.
    let mut child = rtk()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", d, "--log-format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines.next().expect("rtk logs before exiting").unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).expect("JSON logs");
        if let Some(a) = v["fields"]["addr"].as_str() {
            break a.to_string();
        }
    };
    assert!(!dir.path().join("credentials.json").exists());
    let http = reqwest::Client::new();
    let r = http
        .post(format!("http://{addr}/client/v4/accounts/{account}/realtime/kit/apps"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"name": "from-cli-token"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    for req in [
        http.get(format!("http://{addr}/client/v4/accounts/acme/realtime/kit/apps")).bearer_auth(fixed),
        http.get(format!("http://{addr}/client/v4/accounts/acme/realtime/kit/apps"))
            .header("X-Auth-Email", "ci@example.com")
            .header("X-Auth-Key", fixed),
    ] {
        assert_eq!(req.send().await.unwrap().status(), 200, "the fixed token works");
    }
    // Graceful shutdown on SIGTERM: exit status 0.
    let st = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(st.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "rtk exits cleanly on SIGTERM: {status:?}");
}

#[tokio::test]
async fn first_start_creates_credentials_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let start = || {
        let mut child = rtk()
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", d, "--log-format", "json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        loop {
            let line = lines.next().expect("rtk logs").unwrap();
            if line.contains("rtk listening") {
                break;
            }
        }
        Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
        let out = child.wait_with_output().unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let first = start();
    assert!(first.contains("First start"), "{first}");
    let creds: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("credentials.json")).unwrap()).unwrap();
    let account = creds["account_id"].as_str().unwrap();
    assert!(first.contains(account) && first.contains(creds["api_token"].as_str().unwrap()));
    assert!(first.contains("curl"), "a copy-paste example");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("credentials.json")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let second = start();
    assert!(!second.contains("First start"), "never again: {second}");
}

/// `rtk serve --ephemeral` keeps its store in a temporary directory and removes it at exit.
#[test]
fn ephemeral_leaves_nothing_behind() {
    let mut child = rtk()
        .args(["serve", "--ephemeral", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut dir = None;
    loop {
        let line = lines.next().expect("rtk logs before exiting").unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).expect("JSON logs");
        if let Some(d) = v["fields"]["data_dir"].as_str() {
            dir.get_or_insert_with(|| std::path::PathBuf::from(d));
        }
        if v["fields"]["addr"].is_string() {
            break;
        }
    }
    let dir = dir.expect("the ephemeral data directory is logged");
    assert!(dir.join("rtk.db").exists(), "the store lives in {}", dir.display());
    std::thread::spawn(move || for _ in lines {});
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    assert!(child.wait().unwrap().success());
    assert!(!dir.exists(), "{} is removed at exit", dir.display());
    // Not with a database elsewhere.
    let out = rtk().args(["serve", "--ephemeral", "--database-url", "sqlite:///tmp/x.db"]).output().unwrap();
    assert!(!out.status.success());
}
