//! `GET …/analytics/daywise`: the maintained daily rows against a brute-force count over the
//! sessions and recordings the API lists, across midnight and days apart; defaults and errors.

use std::collections::BTreeMap;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::both;
use crate::harness::TestServer;
use rtk_server::clock::Clock;

const DAY: i64 = 86_400_000;

async fn join(s: &TestServer, app: &str, m: &str, who: &str) -> crate::ws::Client {
    let p = s.participant(app, m, who, "host").await;
    let mut c = s.connect(p["token"].as_str().unwrap()).await;
    c.join().await;
    c
}

async fn daywise(s: &TestServer) {
    let app = s.app("stats").await;
    s.preset(&app, "host").await;
    let kit = s.kit();
    let m1 = s.meeting(&app, json!({"title": "a", "session_keep_alive_time_in_secs": 0})).await;
    let m2 = s.meeting(&app, json!({"title": "b", "session_keep_alive_time_in_secs": 0})).await;
    // Day 0: a 10-minute session of two peers (one for 4 minutes), recorded 3 minutes.
    let a = join(s, &app, &m1, "a1").await;
    let b = join(s, &app, &m1, "b1").await;
    let (_, v) = s.post(&format!("{kit}/{app}/recordings"), json!({"meeting_id": m1})).await;
    let rec = v["data"]["id"].as_str().unwrap().to_string();
    s.pass(180_000).await;
    s.call(Method::PUT, &format!("{kit}/{app}/recordings/{rec}"), Some(json!({"action": "stop"}))).await;
    s.pass(60_000).await;
    b.leave().await;
    s.pass(360_000).await;
    a.leave().await;
    s.pass(1_000).await;
    // Over midnight: starts at 23:50 of day 0, ends at 00:20 of day 1.
    s.pass(DAY - 10 * 60_000 - s.clock.now() % DAY).await;
    let c = join(s, &app, &m2, "c1").await;
    s.pass(30 * 60_000).await;
    c.leave().await;
    s.pass(1_000).await;
    // Day 3: a session still live, and a recording still running.
    s.pass(3 * DAY - s.clock.now() % DAY + 3_600_000 - DAY).await;
    let _d = join(s, &app, &m1, "d1").await;
    s.post(&format!("{kit}/{app}/recordings"), json!({"meeting_id": m1})).await;
    s.pass(120_000).await;

    // Brute force over what the API lists.
    let (_, v) = s.get(&format!("{kit}/{app}/sessions?per_page=100")).await;
    let mut want: BTreeMap<String, (i64, f64)> = BTreeMap::new();
    for x in v["data"]["sessions"].as_array().unwrap() {
        let day = x["started_at"].as_str().unwrap()[..10].to_string();
        let e = want.entry(day).or_default();
        e.0 += 1;
        if x["status"] == "ENDED" {
            e.1 += x["minutes_consumed"].as_f64().unwrap();
        }
    }
    let (_, v) = s.get(&format!("{kit}/{app}/recordings?per_page=100")).await;
    let mut want_rec: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for x in v["data"].as_array().unwrap() {
        let e = want_rec.entry(x["invoked_time"].as_str().unwrap()[..10].to_string()).or_default();
        e.0 += 1;
        if !x["stopped_time"].is_null() {
            e.1 += x["recording_duration"].as_i64().unwrap();
        }
    }
    let (st, v) =
        s.get(&format!("{kit}/{app}/analytics/daywise?start_date=2026-01-01&end_date=2026-01-05")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let ss = &v["data"]["session_stats"];
    let days: Vec<&Value> = ss["day_stats"].as_array().unwrap().iter().collect();
    assert_eq!(days.len(), 5, "every day of the range: {v}");
    for d in &days {
        let (n, min) = want.get(d["day"].as_str().unwrap()).copied().unwrap_or_default();
        assert_eq!(d["total_sessions"], n, "{d}");
        assert!((d["total_session_minutes"].as_f64().unwrap() - min).abs() < 1e-9, "{d} vs {min}");
    }
    assert_eq!(ss["sessions_count"], 3);
    // Day 0: 10 + 4 minutes, and the midnight session's 30, all on its start day.
    assert_eq!(days[0]["total_session_minutes"], json!(44.0), "{v}");
    assert_eq!(
        (days[1]["total_sessions"].clone(), days[1]["total_session_minutes"].clone()),
        (json!(0), json!(0.0))
    );
    assert_eq!(
        (days[3]["total_sessions"].clone(), days[3]["total_session_minutes"].clone()),
        (json!(1), json!(0.0)),
        "live: counted, no minutes yet"
    );
    assert_eq!(ss["sessions_minutes_consumed"], json!(44.0));
    let rs = &v["data"]["recording_stats"];
    for d in rs["day_stats"].as_array().unwrap() {
        let (n, secs) = want_rec.get(d["day"].as_str().unwrap()).copied().unwrap_or_default();
        assert_eq!(d["total_recordings"], n, "{d}");
        assert_eq!(d["total_recording_minutes"], (secs + 30) / 60, "{d}");
    }
    assert_eq!(
        (rs["recording_count"].clone(), rs["recording_minutes_consumed"].clone()),
        (json!(2), json!(3.0))
    );

    // Defaults: the last 30 days, today included.
    let (_, v) = s.get(&format!("{kit}/{app}/analytics/daywise")).await;
    let d = v["data"]["session_stats"]["day_stats"].as_array().unwrap();
    assert_eq!((d.len(), d[29]["day"].clone()), (30, json!("2026-01-04")));
    assert_eq!(v["data"]["session_stats"]["sessions_count"], 3);
    for (q, needle) in [
        ("start_date=2026-1-1", "start_date"),
        ("end_date=tomorrow", "end_date"),
        ("start_date=1900-01-01&end_date=2026-01-01", "at most 36525"),
    ] {
        let (st, v) = s.get(&format!("{kit}/{app}/analytics/daywise?{q}")).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{q}: {v}");
        assert!(v.to_string().contains(needle), "{q}: {v}");
    }
    // Backwards: an empty range.
    let (st, v) =
        s.get(&format!("{kit}/{app}/analytics/daywise?start_date=2026-01-05&end_date=2026-01-01")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        v["data"]["session_stats"],
        json!({"sessions_count": 0, "sessions_minutes_consumed": 0.0, "day_stats": []})
    );
    // Another app's numbers are its own.
    let other = s.app("other").await;
    let (_, v) = s.get(&format!("{kit}/{other}/analytics/daywise")).await;
    assert_eq!(v["data"]["session_stats"]["sessions_count"], 0);
}
both!(daywise_matches_a_brute_force_count, super::daywise);
