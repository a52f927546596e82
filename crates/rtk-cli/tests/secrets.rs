//! Hardening, through the real `rtk` binary: what it refuses to open, what it never
//! overwrites, the modes of what it creates, and what it never logs.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

fn rtk() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rtk"))
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// A running `rtk serve`, its stderr drained by a thread (trace logs fill a pipe quickly).
struct Served {
    child: Child,
    addr: String,
    logs: Arc<Mutex<String>>,
    reader: std::thread::JoinHandle<()>,
}

fn serve(args: &[&str], envs: &[(&str, &str)]) -> Served {
    let mut child = rtk()
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .args(args)
        .envs(envs.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let logs = Arc::new(Mutex::new(String::new()));
    let (tx, rx) = mpsc::channel();
    let sink = logs.clone();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                if let Some(a) = v["fields"]["addr"].as_str() {
                    let _ = tx.send(a.to_string());
                }
            }
            let mut l = sink.lock().unwrap();
            l.push_str(&line);
            l.push('\n');
        }
    });
    let addr = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(a) => a,
        Err(_) => {
            let _ = child.kill();
            panic!("rtk serve did not start: {}", logs.lock().unwrap());
        }
    };
    Served { child, addr, logs, reader }
}

impl Served {
    /// SIGTERM, then (exit status, stdout, every log line).
    fn stop(mut self) -> (ExitStatus, String, String) {
        // One answered request first: then the server is serving, its SIGTERM handler set.
        use std::io::Write;
        let mut c = std::net::TcpStream::connect(&self.addr).unwrap();
        c.write_all(b"GET /healthz HTTP/1.0\r\n\r\n").unwrap();
        let _ = c.read_to_end(&mut Vec::new());
        Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        let status = self.child.wait().unwrap();
        let mut out = String::new();
        self.child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
        self.reader.join().unwrap();
        let logs = self.logs.lock().unwrap().clone();
        (status, out, logs)
    }
}

fn serve_expecting_exit(args: &[&str]) -> (ExitStatus, String) {
    serve_expecting_exit_env(args, &[])
}

/// Runs `rtk serve` expecting it to exit by itself; (status, stderr). Kills it after 30 s.
fn serve_expecting_exit_env(args: &[&str], envs: &[(&str, &str)]) -> (ExitStatus, String) {
    let mut child = rtk()
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .args(args)
        .envs(envs.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("rtk serve {args:?} kept running: {}", reader.join().unwrap());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (status, reader.join().unwrap())
}

/// Defect: a 0-byte file, a non-SQLite file or another application's SQLite database at the
/// database path was silently initialised as a new rtk store (and first start re-ran).
#[tokio::test]
async fn refuses_files_that_are_not_rtk_databases() {
    let foreign = {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("app.db");
        // Another application's SQLite database.
        let c = rusqlite::Connection::open(&p).unwrap();
        c.execute_batch("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT); INSERT INTO users (email) VALUES ('a@b');")
            .unwrap();
        drop(c);
        Some((dir, std::fs::read(&p).unwrap()))
    };
    let mut cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", vec![], "empty file"),
        ("text", b"hello, I am a text file\n".to_vec(), "not a SQLite database"),
    ];
    if let Some((_, bytes)) = &foreign {
        cases.push(("foreign sqlite", bytes.clone(), "not an rtk database"));
    }
    let mut corrupt = b"SQLite format 3\0".to_vec();
    corrupt.extend(std::iter::repeat_n(0xAB, 8176));
    cases.push(("corrupt sqlite", corrupt, ""));
    for (name, bytes, needle) in cases {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("rtk.db");
        std::fs::write(&db, &bytes).unwrap();
        let (status, stderr) = serve_expecting_exit(&["--data-dir", dir.path().to_str().unwrap()]);
        assert!(!status.success(), "{name}: refused with a non-zero exit: {stderr}");
        assert!(stderr.contains(&db.display().to_string()), "{name}: the message names the path: {stderr}");
        assert!(stderr.contains(needle), "{name}: {needle:?} in {stderr}");
        assert!(!stderr.contains("pool timed out"), "{name}: {stderr}");
        assert_eq!(std::fs::read(&db).unwrap(), bytes, "{name}: the file is left as it was");
        assert!(!dir.path().join("credentials.json").exists(), "{name}: no first start");
    }
}

/// Defect: an unreachable database failed after a long wait with "pool timed out", naming
/// neither the database nor the cause. Now: the URL (password redacted) and the cause.
#[tokio::test]
async fn unreachable_database_names_url_and_cause() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let start = Instant::now();
    let (status, stderr) = serve_expecting_exit(&[
        "--data-dir",
        d,
        "--database-url",
        "postgres://rtk:hunter2@127.0.0.1:1/rtk",
        "--connect-timeout-secs",
        "3",
    ]);
    assert!(!status.success());
    assert!(start.elapsed() < Duration::from_secs(15), "{:?}", start.elapsed());
    assert!(stderr.contains("postgres://rtk:***@127.0.0.1:1/rtk"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "the password is redacted: {stderr}");
    assert!(stderr.to_lowercase().contains("refused"), "the cause: {stderr}");
    assert!(!stderr.contains("pool timed out"), "{stderr}");
    // A reachable server without that database: its own words.
    let pg =
        std::env::var("RTK_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let base = pg.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap();
    let url = format!("{base}/rtk_no_such_database_here");
    let (status, stderr) = serve_expecting_exit(&["--data-dir", d, "--database-url", &url]);
    assert!(!status.success());
    if !stderr.contains("refused") {
        assert!(
            stderr.contains("rtk_no_such_database_here") && stderr.contains("does not exist"),
            "{stderr}"
        );
    }
}

/// Defect: first start on an empty store overwrote an existing `credentials.json` (the
/// credentials of another store). Now it is left alone and the new ones go beside it.
#[tokio::test]
async fn first_start_never_overwrites_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let creds = dir.path().join("credentials.json");
    let old = br#"{"account_id": "an-earlier-store", "api_token": "rtk_keep_me"}"#;
    std::fs::write(&creds, old).unwrap();
    let (status, stdout, logs) = serve(&["--data-dir", d], &[]).stop();
    assert!(status.success());
    assert_eq!(std::fs::read(&creds).unwrap(), old, "left untouched");
    let written: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("credentials-"))
        .collect();
    assert_eq!(written.len(), 1, "{written:?}");
    let new: serde_json::Value = serde_json::from_slice(&std::fs::read(&written[0]).unwrap()).unwrap();
    let account = new["account_id"].as_str().unwrap();
    assert_eq!(written[0].file_name().unwrap().to_str().unwrap(), format!("credentials-{account}.json"));
    assert_eq!(mode(&written[0]), 0o600);
    assert!(stdout.contains(&written[0].display().to_string()), "the banner names the file: {stdout}");
    assert!(
        logs.lines().any(|l| l.contains("WARN") && l.contains(&creds.display().to_string())),
        "a warning names the existing file: {logs}"
    );
}

/// Defect: a new data directory was 0755 with a 0644 database, so any local user could read
/// the signing keys. Now 0700 and 0600; an existing looser directory is warned about.
#[tokio::test]
async fn creates_private_files_and_warns_about_loose_ones() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (status, _, logs) = serve(&["--data-dir", data.to_str().unwrap()], &[]).stop();
    assert!(status.success());
    assert_eq!(mode(&data), 0o700);
    for f in ["rtk.db", "rtk.db-wal", "rtk.db-shm", "signing.key", "credentials.json"] {
        let p = data.join(f);
        if f.ends_with("-wal") || f.ends_with("-shm") {
            // SQLite removes them at a clean close.
            if !p.exists() {
                continue;
            }
        }
        assert_eq!(mode(&p), 0o600, "{f}");
    }
    assert!(!logs.contains("other local users"), "nothing to warn about: {logs}");
    // An existing directory and database made readable by others: warned, still served.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(data.join("rtk.db"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let (status, _, logs) = serve(&["--data-dir", data.to_str().unwrap()], &[]).stop();
    assert!(status.success());
    let warned = |path: &Path, m: &str| {
        logs.lines().any(|l| l.contains("WARN") && l.contains(&path.display().to_string()) && l.contains(m))
    };
    assert!(warned(&data, "0755"), "{logs}");
    assert!(warned(&data.join("rtk.db"), "0644"), "{logs}");
}

/// Through the API of the server on `data`: an app, preset, meeting and participant;
/// (API token, account, participant token, the app's API URL).
async fn participant(s: &Served, data: &Path) -> (String, String, String, String) {
    common::participant(&s.addr, data, "U").await
}

/// Defect: the gateway's `?token=` was logged at DEBUG (tower-http's request span). At TRACE
/// now, with a participant joining and chatting, API calls with both credential styles and a
/// chat download, no token appears in any log line.
#[tokio::test]
async fn tokens_never_reach_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let s = serve(&["--data-dir", data.to_str().unwrap()], &[("RTK_LOG", "trace")]);
    let (api_token, _acc, ptoken, app_url) = participant(&s, &data).await;
    let base = format!("http://{}", s.addr);
    let mut p = rtk_client::participant::Participant::connect(&base, &ptoken).await.expect("connects");
    let joined = p.join(None).await.expect("joins");
    p.chat("hello").unwrap();
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{app_url}/sessions/{}/chat", joined.session_id))
        .header("X-Auth-Email", "admin@rtk.local")
        .header("X-Auth-Key", &api_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    let link = v["data"]["chat_download_url"].as_str().unwrap().to_string();
    let export_token = link.rsplit('/').next().unwrap().to_string();
    assert_eq!(http.get(&link).send().await.unwrap().status(), 200);
    p.leave().await.unwrap();
    let (_, _, logs) = s.stop();
    for (what, secret) in
        [("API token", &api_token), ("participant token", &ptoken), ("export link", &export_token)]
    {
        // The JWTs' signatures (their last part) would be enough to replay them.
        let sig = secret.rsplit('.').next().unwrap();
        assert!(!logs.contains(secret.as_str()) && !logs.contains(sig), "the {what} is in the logs");
    }
    assert!(logs.contains("/gateway/v1?token=***"), "the gateway request is logged, redacted");
    assert!(logs.contains("/chat-exports/***"), "the download is logged, redacted");
}

/// `rtk keys rotate` on a sealed store: tokens signed before stay valid; with another
/// deployment's key file it stops with a clear message and changes nothing.
#[tokio::test]
async fn keys_rotate_keeps_tokens_and_checks_the_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    let s = serve(&["--data-dir", d], &[]);
    let (_, _, ptoken, _) = participant(&s, &data).await;
    s.stop();
    let out = rtk().args(["keys", "rotate", "--data-dir", d]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Another deployment's key file.
    let other = dir.path().join("other");
    assert!(rtk()
        .args(["keys", "rotate", "--data-dir", other.to_str().unwrap()])
        .status()
        .unwrap()
        .success());
    let other_key = other.join("signing.key");
    let out = rtk()
        .args(["keys", "rotate", "--data-dir", d, "--signing-key-file", other_key.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "the signing key file {} does not open the keys in the database",
            other_key.display()
        )),
        "{err}"
    );
    // The same through RTK_SIGNING_KEY_FILE for serve.
    let (status, stderr) = serve_expecting_exit_env(
        &["--data-dir", d],
        &[("RTK_SIGNING_KEY_FILE", other_key.to_str().unwrap())],
    );
    assert!(!status.success());
    assert!(stderr.contains("does not open the keys in the database"), "{stderr}");
    // The right file: the token signed before the rotation still joins.
    let s = serve(&["--data-dir", d], &[]);
    let mut p = rtk_client::participant::Participant::connect(&format!("http://{}", s.addr), &ptoken)
        .await
        .expect("an old token still connects");
    p.join(None).await.expect("and joins");
    p.leave().await.unwrap();
    s.stop();
}
