//! One thing only: whether the PostgreSQL the tests use answers, so that its tests are
//! reported as *ignored* (with the reason) rather than as passed when it does not.
//!
//! The tests read `RTK_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/test`); this
//! script tries a TCP connection to its host and port (at most 300 ms) and sets
//! `cfg(rtk_no_pg)` when nothing listens. With `RTK_TEST_REQUIRE_PG` set (CI) it never does:
//! there a missing PostgreSQL fails the tests. The probe runs again whenever either variable
//! changes (or this file), so after starting PostgreSQL, `RTK_TEST_PG_URL=… cargo test`
//! (or `touch crates/rtk-server/build.rs`) picks it up.

use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(rtk_no_pg)");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=RTK_TEST_PG_URL");
    println!("cargo::rerun-if-env-changed=RTK_TEST_REQUIRE_PG");
    if std::env::var_os("RTK_TEST_REQUIRE_PG").is_some() {
        return;
    }
    let url =
        std::env::var("RTK_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    if !answers(&url) {
        println!("cargo::rustc-cfg=rtk_no_pg");
    }
}

/// Whether something listens at the URL's host and port.
fn answers(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let hostport = if hostport.contains(':') { hostport.to_string() } else { format!("{hostport}:5432") };
    let Ok(addrs) = hostport.to_socket_addrs() else { return false };
    addrs.into_iter().any(|a| TcpStream::connect_timeout(&a, Duration::from_millis(300)).is_ok())
}
