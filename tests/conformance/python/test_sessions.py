"""Sessions and the active session: sessions.get_sessions, get_session_details (and
include_breakout_rooms), get_session_participants (view, sort_by, search, include_peer_events,
paging), get_session_participant_details, get_participant_data_from_peer_id, get_session_chat;
active_session.get_active_session, kick_participants, kick_all_participants, create_poll (and
the mute methods, where the installed SDK has them).

A session exists only because participants joined through the gateway, so every test joins
real peers: `rtk join` subprocesses (`join`), or a WebSocket client for chat (`ws_join`). The
server runs on the real clock, so times and minutes are checked as relations and bounds.
"""

import csv
import io
import time
from datetime import datetime, timedelta, timezone

import cloudflare
import httpx
import pytest

from rtkconf import as_datetime, assert_api_error, assert_recent, needs, paging, sdk_param_optional, unique

DEVICE = {
    "os": "Linux",
    "os_version": "6.1",
    "cpus": 8,
    "is_mobile": False,
    "browser": "Firefox",
    "browser_version": "128.0",
    "engine": "Gecko",
    "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    # str in 5.0.0's model, bool in 5.9.0's: rtk must not echo it (see ../NOTES.md).
    "webgl_support": True,
}

# Slack for bounds on durations: the server keeps milliseconds.
MS = 2


@pytest.fixture
def member(cf, acc, app, preset, meeting):
    """`member(name, meeting=meeting)`: a new participant (with its token) of preset `host`."""

    def _add(name: str, in_meeting=None):
        m = in_meeting or meeting
        return cf.realtime_kit.meetings.add_participant(
            m.id, account_id=acc, app_id=app.id, custom_participant_id=unique(name.lower()), preset_name="host", name=name
        ).data

    return _add


def details(cf, ids, session_id, **params):
    """get_session_details, and the session in it. 5.0.0 models the session as `data.session`,
    5.9.0 (and TS) flat under `data`; rtk sends both, and they must be the same."""
    resp = cf.realtime_kit.sessions.get_session_details(session_id, **ids, **params)
    assert resp.success is True
    data = resp.data.to_dict()
    nested = data.pop("session")
    assert data == nested, "the flat and the nested session differ"
    session = resp.data.session if "session" in type(resp.data).model_fields else resp.data
    assert session.id == session_id
    return session


def active(cf, ids, meeting):
    resp = cf.realtime_kit.active_session.get_active_session(meeting.id, **ids)
    assert resp.success is True
    return resp.data


def participants(cf, ids, session_id, **params) -> "list[dict]":
    resp = cf.realtime_kit.sessions.get_session_participants(session_id, **ids, **params)
    assert resp.success is True
    return [p.to_dict() for p in resp.data.participants]


def minutes(ms: float) -> float:
    return ms / 60_000.0


def assert_no_active_session(cf, ids, meeting):
    with pytest.raises(cloudflare.NotFoundError) as e:
        cf.realtime_kit.active_session.get_active_session(meeting.id, **ids)
    assert_api_error(e, 404, f"No active session found for meeting_id {meeting.id}")


# ---------------------------------------------------------------------------------------------
# A live session


def test_two_peers_make_one_live_session(cf, ids, app, meeting, member, join):
    ada, grace = member("Ada"), member("Grace")
    pa = join(ada)
    pb = join(grace)
    assert (pa.meeting_id, pb.meeting_id) == (meeting.id, meeting.id)
    assert pb.session_id == pa.session_id
    assert (pa.peers, pb.peers) == (0, 1)

    s = active(cf, ids, meeting)
    assert s.id == pa.session_id
    assert (s.associated_id, s.meeting_display_name, s.organization_id) == (meeting.id, meeting.title, app.id)
    assert (s.type, s.status) == ("meeting", "LIVE")
    assert (s.live_participants, s.max_concurrent_participants) == (2, 2)
    assert s.minutes_consumed > 0
    started = assert_recent(s.started_at)
    assert as_datetime(s.created_at) == started
    assert as_datetime(s.updated_at) >= started
    assert s.ended_at is None
    assert s.breakout_rooms == []

    d = details(cf, ids, pa.session_id)
    assert (d.associated_id, d.status, d.live_participants, d.max_concurrent_participants) == (meeting.id, "LIVE", 2, 2)
    assert (d.started_at, d.type, d.organization_id) == (s.started_at, "meeting", app.id)
    assert d.minutes_consumed >= s.minutes_consumed  # read later: more minutes, never fewer
    assert d.ended_at is None


def test_max_concurrent_participants_is_the_peak(cf, ids, meeting, member, join):
    a, b, c, d = (member(n) for n in ("A", "B", "C", "D"))
    pa, pb = join(a), join(b)
    pa.leave()
    s = active(cf, ids, meeting)
    assert (s.status, s.live_participants, s.max_concurrent_participants) == ("LIVE", 1, 2)
    join(c)
    s = active(cf, ids, meeting)
    assert (s.live_participants, s.max_concurrent_participants) == (2, 2)
    join(d)
    s = active(cf, ids, meeting)
    assert (s.id, s.live_participants, s.max_concurrent_participants) == (pb.session_id, 3, 3)


def test_keep_alive_holds_an_empty_session_and_a_rejoin_continues_it(cf, ids, meeting, member, join):
    """The meeting's session_keep_alive_time_in_secs (60 by default) keeps the session LIVE
    after the last leave; a participant who comes back within it rejoins the same session."""
    ada = member("Ada")
    first = join(ada)
    first.leave()
    s = active(cf, ids, meeting)
    assert (s.id, s.status, s.live_participants, s.max_concurrent_participants) == (first.session_id, "LIVE", 0, 1)
    again = join(ada)
    assert again.session_id == first.session_id
    assert again.peer_id != first.peer_id
    s = active(cf, ids, meeting)
    assert (s.live_participants, s.max_concurrent_participants) == (1, 1)


def test_last_leave_ends_a_session_without_keep_alive(cf, acc, app, ids, member, join):
    m = cf.realtime_kit.meetings.create(app.id, account_id=acc, title="no keep-alive", session_keep_alive_time_in_secs=0).data
    a, b = member("Ada", m), member("Grace", m)
    pa, pb = join(a), join(b)
    time.sleep(0.2)
    sent_a = time.monotonic()
    left_a = pa.leave()
    s = active(cf, ids, m)
    assert (s.status, s.live_participants, s.max_concurrent_participants) == ("LIVE", 1, 2)
    sent_b = time.monotonic()
    left_b = pb.leave()

    d = details(cf, ids, pa.session_id)
    assert (d.status, d.live_participants, d.max_concurrent_participants) == ("ENDED", 0, 2)
    rows = {p["id"]: p for p in participants(cf, ids, pa.session_id)}
    assert set(rows) == {pa.peer_id, pb.peer_id}
    # Durations are within what the test saw of each peer: at least from `joined` to the
    # leave signal, at most from spawning `rtk join` to its exit.
    for peer, sent, left in ((pa, sent_a, left_a), (pb, sent_b, left_b)):
        ms = rows[peer.peer_id]["duration"] * 60_000
        assert (sent - peer.joined_at) * 1000 - MS <= ms <= (left - peer.started) * 1000 + MS, (peer.peer_id, ms)
    assert d.minutes_consumed == pytest.approx(sum(r["duration"] for r in rows.values()), rel=1e-9, abs=1e-12)
    last_left = max(as_datetime(r["left_at"]) for r in rows.values())
    assert as_datetime(d.ended_at) == last_left
    assert as_datetime(d.started_at) == min(as_datetime(r["joined_at"]) for r in rows.values())
    assert_no_active_session(cf, ids, m)


def test_a_session_ends_when_its_keep_alive_runs_out(cf, acc, app, ids, member, join):
    m = cf.realtime_kit.meetings.create(app.id, account_id=acc, title="short keep-alive", session_keep_alive_time_in_secs=1).data
    pa = join(member("Ada", m))
    pa.leave()
    s = active(cf, ids, m)
    assert (s.id, s.status, s.live_participants) == (pa.session_id, "LIVE", 0)
    assert s.ended_at is None
    time.sleep(1.2)
    d = details(cf, ids, pa.session_id)
    assert (d.status, d.live_participants, d.max_concurrent_participants) == ("ENDED", 0, 1)
    [row] = participants(cf, ids, pa.session_id)
    assert as_datetime(d.ended_at) == as_datetime(row["left_at"])  # it ended at the last leave
    assert d.minutes_consumed == pytest.approx(row["duration"], rel=1e-9)
    assert_no_active_session(cf, ids, m)
    # The next join starts a new session.
    assert join(member("Grace", m)).session_id != pa.session_id


# ---------------------------------------------------------------------------------------------
# The sessions list


def test_get_sessions_filters_by_meeting_status_time_and_size(cf, acc, app, ids, meeting, member, join):
    other = cf.realtime_kit.meetings.create(app.id, account_id=acc, title=unique("elsewhere")).data
    ada, grace, linus = member("Ada"), member("Grace"), member("Linus", other)

    first = join(ada)
    cf.realtime_kit.active_session.kick_all_participants(meeting.id, **ids)
    first.wait_closed()
    second = [join(ada), join(grace)]
    s2 = second[0].session_id
    s1 = first.session_id
    assert s2 != s1  # an ENDED session is never continued
    s3 = join(linus).session_id

    def listed(**params):
        resp = cf.realtime_kit.sessions.get_sessions(app.id, account_id=acc, **params)
        assert resp.success is True
        return [s.id for s in resp.data.sessions], paging(resp), resp.data.sessions

    got, pg, sessions = listed(associated_id=meeting.id)
    assert got == [s2, s1]  # newest first
    assert pg == {"total_count": 2, "start_offset": 1, "end_offset": 2}
    assert [s.status for s in sessions] == ["LIVE", "ENDED"]
    assert [s.associated_id for s in sessions] == [meeting.id, meeting.id]
    assert [s.max_concurrent_participants for s in sessions] == [2, 1]
    assert sessions[1].ended_at is not None and sessions[0].ended_at is None

    assert listed(associated_id=meeting.id, status="LIVE")[0] == [s2]
    assert listed(associated_id=meeting.id, status="ENDED")[0] == [s1]
    assert listed(associated_id=meeting.id, sort_order="ASC")[0] == [s1, s2]
    got, pg, _ = listed(associated_id=meeting.id, page_no=2, per_page=1)
    assert (got, pg) == ([s1], {"total_count": 2, "start_offset": 2, "end_offset": 2})

    got, pg, _ = listed()
    assert got == [s3, s2, s1]
    assert pg["total_count"] == 3
    assert set(listed(status="LIVE")[0]) == {s2, s3}
    assert listed(search=meeting.title)[0] == [s2, s1]
    assert listed(search=other.title.upper())[0] == [s3]
    # `participants`: how many peers joined, as MIN:MAX.
    assert listed(associated_id=meeting.id, participants="2:")[0] == [s2]
    assert listed(associated_id=meeting.id, participants=":1")[0] == [s1]

    by_minutes = listed(sort_by="minutesConsumed")[2]
    consumed = [s.minutes_consumed for s in by_minutes]
    assert consumed == sorted(consumed, reverse=True)
    assert listed(sort_by="minutesConsumed", sort_order="ASC")[0] == [s.id for s in reversed(by_minutes)]

    started = {s.id: as_datetime(s.started_at) for s in sessions}
    since = listed(associated_id=meeting.id, start_time=started[s2])[0]
    assert since == [s2]
    until = listed(associated_id=meeting.id, end_time=started[s2] - timedelta(milliseconds=1))[0]
    assert until == [s1]
    future = listed(start_time=datetime.now(timezone.utc) + timedelta(hours=1))
    assert (future[0], future[1]["total_count"]) == ([], 0)


def test_get_sessions_rejects_an_unknown_status(cf, acc, app):
    with pytest.raises(cloudflare.BadRequestError) as e:
        cf.realtime_kit.sessions.get_sessions(app.id, account_id=acc, status="RUNNING")
    assert_api_error(e, 400, 'invalid query parameter "status"')


# ---------------------------------------------------------------------------------------------
# A session's participants


def test_session_participants_lists_the_joined_peers(cf, ids, meeting, member, join):
    ada, grace = member("Ada"), member("Grace")
    pa = join(ada)
    time.sleep(0.05)
    pb = join(grace)
    sid = pa.session_id

    rows = participants(cf, ids, sid)
    assert [r["id"] for r in rows] == [pa.peer_id, pb.peer_id]  # joinedAt, ascending
    for r, p in zip(rows, (ada, grace)):
        assert (r["user_id"], r["custom_participant_id"], r["display_name"], r["preset_name"]) == (
            p.id,
            p.custom_participant_id,
            p.name,
            "host",
        )
        assert r.get("left_at") is None
        assert r["duration"] > 0
        assert_recent(r["joined_at"])
        assert "peer_events" not in r
    assert as_datetime(rows[0]["joined_at"]) < as_datetime(rows[1]["joined_at"])

    resp = cf.realtime_kit.sessions.get_session_participants(sid, **ids, page_no=2, per_page=1)
    assert [p.id for p in resp.data.participants] == [pb.peer_id]
    assert paging(resp) == {"total_count": 2, "start_offset": 2, "end_offset": 2}

    assert [r["id"] for r in participants(cf, ids, sid, sort_by="joinedAt", sort_order="DESC")] == [pb.peer_id, pa.peer_id]
    # Both are live: the earlier joiner has been there longer.
    assert [r["id"] for r in participants(cf, ids, sid, sort_by="duration")] == [pb.peer_id, pa.peer_id]
    assert [r["id"] for r in participants(cf, ids, sid, sort_by="duration", sort_order="DESC")] == [pa.peer_id, pb.peer_id]
    assert [r["id"] for r in participants(cf, ids, sid, search="GRACE")] == [pb.peer_id]
    assert [r["id"] for r in participants(cf, ids, sid, search=ada.custom_participant_id)] == [pa.peer_id]

    with_events = participants(cf, ids, sid, include_peer_events=True)
    for r, p in zip(with_events, (pa, pb)):
        events = r["peer_events"]
        assert [(e["event_name"], e["peer_id"], e["session_id"]) for e in events] == [("PEER_JOINING", p.peer_id, sid)]
        assert events[0]["created_at"] == r["joined_at"]


def test_consolidated_view_joins_a_participants_peers(cf, ids, meeting, member, join):
    ada, grace = member("Ada"), member("Grace")
    first = join(ada)
    first.leave()
    second = join(ada)
    pg = join(grace)
    sid = first.session_id
    cf.realtime_kit.active_session.kick_all_participants(meeting.id, **ids)  # ends it: durations stop growing
    second.wait_closed()

    raw = participants(cf, ids, sid, view="raw", include_peer_events=True)
    assert [r["id"] for r in raw] == [first.peer_id, second.peer_id, pg.peer_id]
    assert [r["user_id"] for r in raw] == [ada.id, ada.id, grace.id]
    assert all(r["left_at"] for r in raw)
    assert [[e["event_name"] for e in r["peer_events"]] for r in raw] == [["PEER_JOINING", "PEER_LEAVING"]] * 3

    rows = participants(cf, ids, sid, view="consolidated", include_peer_events=True)
    assert [r["user_id"] for r in rows] == [ada.id, grace.id]
    a = rows[0]
    assert a["duration"] == pytest.approx(raw[0]["duration"] + raw[1]["duration"], rel=1e-9)
    assert (a["joined_at"], a["left_at"]) == (raw[0]["joined_at"], raw[1]["left_at"])
    assert [e["peer_id"] for e in a["peer_events"]] == [first.peer_id, first.peer_id, second.peer_id, second.peer_id]
    assert rows[1]["duration"] == raw[2]["duration"]
    assert details(cf, ids, sid).minutes_consumed == pytest.approx(sum(r["duration"] for r in raw), rel=1e-9)


def test_session_participants_rejects_an_unknown_view(cf, ids, member, join):
    sid = join(member("Ada")).session_id
    with pytest.raises(cloudflare.BadRequestError) as e:
        cf.realtime_kit.sessions.get_session_participants(sid, **ids, view="grouped")
    assert_api_error(e, 400, 'invalid query parameter "view"')


def test_session_participant_details_by_peer_and_by_participant(cf, ids, member, join):
    ada = member("Ada")
    pa = join(ada, device=DEVICE)
    sid = pa.session_id
    resp = cf.realtime_kit.sessions.get_session_participant_details(pa.peer_id, **ids, session_id=sid)
    assert resp.success is True
    p = resp.data.participant.to_dict()
    assert (p["id"], p["user_id"], p["custom_participant_id"], p["display_name"], p["preset_name"]) == (
        pa.peer_id,
        ada.id,
        ada.custom_participant_id,
        "Ada",
        "host",
    )
    assert p.get("left_at") is None
    assert p["duration"] > 0
    # 5.0.0's peer_stats.device_info (an extra in 5.9.0): the device it joined with.
    assert p["peer_stats"]["device_info"] == {k: DEVICE[k] for k in ("os", "os_version", "cpus", "is_mobile")}

    by_participant = cf.realtime_kit.sessions.get_session_participant_details(ada.id, **ids, session_id=sid)
    assert by_participant.data.participant.id == pa.peer_id

    events = cf.realtime_kit.sessions.get_session_participant_details(
        pa.peer_id, **ids, session_id=sid, include_peer_events=True
    ).data.participant.to_dict()["peer_events"]
    assert [(e["event_name"], e["peer_id"]) for e in events] == [("PEER_JOINING", pa.peer_id)]

    missing = unique("nobody")
    with pytest.raises(cloudflare.NotFoundError) as e:
        cf.realtime_kit.sessions.get_session_participant_details(missing, **ids, session_id=sid)
    assert_api_error(e, 404, f"No participant found with id {missing} in session {sid}")


@needs("sessions.get_session_participant_details", "filters")
def test_session_participant_details_accepts_filters(cf, ids, member, join):
    pa = join(member("Ada"), device=DEVICE)
    resp = cf.realtime_kit.sessions.get_session_participant_details(
        pa.peer_id, **ids, session_id=pa.session_id, filters="device_info"
    )
    assert resp.data.participant.peer_stats.device_info.os == "Linux"


def test_peer_report(cf, ids, member, join):
    ada = member("Ada")
    pa = join(ada, device=DEVICE)
    resp = cf.realtime_kit.sessions.get_participant_data_from_peer_id(pa.peer_id, **ids, filters="device_info")
    assert resp.success is True
    p = resp.data.participant.to_dict()
    assert (p["id"], p["user_id"], p["custom_participant_id"], p["display_name"], p["role"], p["session_id"]) == (
        pa.peer_id,
        ada.id,
        ada.custom_participant_id,
        "Ada",
        "host",
        pa.session_id,
    )
    meta = p["peer_report"]["metadata"]
    assert meta["device_info"] == {k: DEVICE[k] for k in ("os", "os_version", "cpus", "is_mobile")}
    assert meta["browser_metadata"] == {k: DEVICE[k] for k in ("browser", "browser_version", "engine", "user_agent")}
    assert "webgl_support" not in meta["browser_metadata"]  # incompatible across generations


@needs("sessions.get_participant_data_from_peer_id", "include_peer_events")
def test_peer_report_with_peer_events(cf, ids, member, join):
    pa = join(member("Ada"))
    pa.leave()
    p = cf.realtime_kit.sessions.get_participant_data_from_peer_id(pa.peer_id, **ids, include_peer_events=True)
    events = p.data.participant.peer_events
    assert [(e.event_name, e.peer_id, e.session_id) for e in events] == [
        ("PEER_JOINING", pa.peer_id, pa.session_id),
        ("PEER_LEAVING", pa.peer_id, pa.session_id),
    ]
    assert events[1].minutes_consumed == pytest.approx(p.data.participant.duration, rel=1e-9)


# ---------------------------------------------------------------------------------------------
# Chat


def read_export(url: str) -> "list[list[str]]":
    r = httpx.get(url, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(r.text)))


CSV_HEADER = ["id", "sent_at", "peer_id", "participant_id", "display_name", "message"]


def test_session_chat_of_a_quiet_session_is_an_empty_csv(cf, ids, member, join):
    sid = join(member("Ada")).session_id
    before = datetime.now(timezone.utc)
    resp = cf.realtime_kit.sessions.get_session_chat(sid, **ids)
    assert resp.success is True
    expiry = as_datetime(resp.data.chat_download_url_expiry)
    assert before + timedelta(minutes=59) < expiry < before + timedelta(minutes=61)
    assert read_export(resp.data.chat_download_url) == [CSV_HEADER]


def test_session_chat_exports_what_peers_said(cf, ids, member, join, ws_join):
    ada, grace = member("Ada"), member("Grace")
    talker = ws_join(ada)
    listener = join(grace)
    assert listener.session_id == talker.session_id
    said = ["hello", 'commas, "quotes"\nand a second line']
    sent = [talker.chat(m) for m in said]
    heard = [listener.wait_for("chat") for _ in said]
    assert [h["message"] for h in heard] == said

    resp = cf.realtime_kit.sessions.get_session_chat(talker.session_id, **ids)
    rows = read_export(resp.data.chat_download_url)
    assert rows[0] == CSV_HEADER
    assert [r[5] for r in rows[1:]] == said
    assert [(r[0], r[2], r[3], r[4]) for r in rows[1:]] == [(s["id"], talker.peer_id, ada.id, "Ada") for s in sent]
    assert [as_datetime(r[1]) for r in rows[1:]] == [as_datetime(s["sent_at"]) for s in sent]


# ---------------------------------------------------------------------------------------------
# Active session: kick, kick-all, poll


def test_kick_participants_by_id_and_by_custom_id(cf, ids, meeting, member, join):
    ada, grace, linus = member("Ada"), member("Grace"), member("Linus")
    pa, pg, pl = join(ada), join(grace), join(linus)

    resp = cf.realtime_kit.active_session.kick_participants(
        meeting.id, **ids, participant_ids=[ada.id], custom_participant_ids=[]
    )
    assert resp.success is True
    assert resp.data.action == "kick"
    kicked = resp.data.participants
    assert [(k.id, k.name) for k in kicked] == [(ada.id, "Ada")]
    assert as_datetime(kicked[0].created_at) == as_datetime(ada.created_at)
    assert pa.wait_for("kicked")["reason"] == "kick"
    assert pa.wait_closed()["code"] == 4005
    s = active(cf, ids, meeting)
    assert (s.status, s.live_participants, s.max_concurrent_participants) == ("LIVE", 2, 3)

    resp = cf.realtime_kit.active_session.kick_participants(
        meeting.id, **ids, participant_ids=[], custom_participant_ids=[linus.custom_participant_id]
    )
    assert [k.id for k in resp.data.participants] == [linus.id]
    pl.wait_closed()
    s = active(cf, ids, meeting)
    assert (s.live_participants, s.max_concurrent_participants) == (1, 3)

    rows = {r["id"]: r for r in participants(cf, ids, pa.session_id)}
    assert rows[pa.peer_id]["left_at"] and rows[pl.peer_id]["left_at"]
    assert rows[pg.peer_id].get("left_at") is None
    assert pg.proc.poll() is None  # still in


@pytest.mark.skipif(
    not sdk_param_optional("active_session.kick_participants", "custom_participant_ids"),
    reason=f"cloudflare {cloudflare.__version__} requires both participant_ids and custom_participant_ids",
)
def test_kick_participants_with_one_list(cf, ids, meeting, member, join):
    ada, grace = member("Ada"), member("Grace")
    pa, pg = join(ada), join(grace)
    resp = cf.realtime_kit.active_session.kick_participants(meeting.id, **ids, participant_ids=[ada.id])
    assert [k.id for k in resp.data.participants] == [ada.id]
    pa.wait_closed()
    resp = cf.realtime_kit.active_session.kick_participants(meeting.id, **ids, custom_participant_ids=[grace.custom_participant_id])
    assert [k.id for k in resp.data.participants] == [grace.id]
    pg.wait_closed()
    s = active(cf, ids, meeting)
    assert (s.live_participants, s.max_concurrent_participants) == (0, 2)


def test_kick_participants_rejects_unknown_and_empty_targets(cf, ids, meeting, member, join):
    join(member("Ada"))
    missing = unique("nobody")
    with pytest.raises(cloudflare.NotFoundError) as e:
        cf.realtime_kit.active_session.kick_participants(meeting.id, **ids, participant_ids=[missing], custom_participant_ids=[])
    assert_api_error(e, 404, f"No user found with id {missing}")
    with pytest.raises(cloudflare.BadRequestError) as e:
        cf.realtime_kit.active_session.kick_participants(meeting.id, **ids, participant_ids=[], custom_participant_ids=[])
    assert_api_error(e, 400, '"participant_ids" or "custom_participant_ids"')


def test_kick_all_ends_the_session_at_once(cf, acc, app, ids, meeting, member, join):
    ada, grace = member("Ada"), member("Grace")
    pa, pg = join(ada), join(grace)
    sid = pa.session_id
    time.sleep(0.2)
    sent = time.monotonic()
    resp = cf.realtime_kit.active_session.kick_all_participants(meeting.id, **ids)
    done = time.monotonic()
    assert resp.success is True
    assert (resp.data.action, resp.data.kicked_participants_count) == ("kick-all", 2)
    for peer in (pa, pg):
        assert peer.wait_for("kicked")["reason"] == "kick_all"
        assert peer.wait_for("session_ended")["session_id"] == sid
        assert peer.wait_closed()["code"] == 4005

    # ENDED now, although the meeting keeps an empty session alive for 60 s.
    d = details(cf, ids, sid)
    assert (d.status, d.live_participants, d.max_concurrent_participants) == ("ENDED", 0, 2)
    rows = participants(cf, ids, sid)
    assert {r["id"] for r in rows} == {pa.peer_id, pg.peer_id}
    assert {r["left_at"] for r in rows} == {d.ended_at}
    for r, peer in zip(rows, (pa, pg)):
        ms = r["duration"] * 60_000
        assert (sent - peer.joined_at) * 1000 - MS <= ms <= (done - peer.started) * 1000 + MS
    assert d.minutes_consumed == pytest.approx(sum(r["duration"] for r in rows), rel=1e-9)
    listed = cf.realtime_kit.sessions.get_sessions(app.id, account_id=acc, associated_id=meeting.id, status="ENDED")
    assert [s.id for s in listed.data.sessions] == [sid]
    assert listed.data.sessions[0].minutes_consumed == d.minutes_consumed

    assert_no_active_session(cf, ids, meeting)
    for call in (
        lambda: cf.realtime_kit.active_session.kick_all_participants(meeting.id, **ids),
        lambda: cf.realtime_kit.active_session.create_poll(meeting.id, **ids, question="Still there?", options=["y", "n"]),
        lambda: cf.realtime_kit.active_session.kick_participants(
            meeting.id, **ids, participant_ids=[ada.id], custom_participant_ids=[]
        ),
    ):
        with pytest.raises(cloudflare.NotFoundError) as e:
            call()
        assert_api_error(e, 404, f"No active session found for meeting_id {meeting.id}")


def test_create_poll_reaches_every_peer(cf, ids, meeting, member, join):
    pa, pg = join(member("Ada")), join(member("Grace"))
    resp = cf.realtime_kit.active_session.create_poll(
        meeting.id, **ids, question="Ship it?", options=["yes", "no", "later"], anonymous=True, hide_votes=True
    )
    assert resp.success is True
    assert resp.data.action == "poll"
    poll = resp.data.poll
    assert poll.id
    assert (poll.question, poll.anonymous, poll.hide_votes) == ("Ship it?", True, True)
    assert [(o.text, o.count, o.votes) for o in poll.options] == [("yes", 0, []), ("no", 0, []), ("later", 0, [])]
    for peer in (pa, pg):
        shown = peer.wait_for("poll_created")["poll"]
        assert (shown["id"], shown["question"]) == (poll.id, "Ship it?")
        assert [o["text"] for o in shown["options"]] == ["yes", "no", "later"]

    plain = cf.realtime_kit.active_session.create_poll(meeting.id, **ids, question="Lunch?", options=["now", "later"]).data.poll
    assert (plain.anonymous, plain.hide_votes) == (False, False)
    assert plain.id != poll.id


def test_create_poll_rejects_a_single_option(cf, ids, meeting, member, join):
    join(member("Ada"))
    with pytest.raises(cloudflare.BadRequestError) as e:
        cf.realtime_kit.active_session.create_poll(meeting.id, **ids, question="Only?", options=["one"])
    assert_api_error(e, 400, '"options" must list 2 to 50 choices')


@needs("active_session.mute_participants")
def test_mute_participants(cf, ids, meeting, member, join):
    ada, grace = member("Ada"), member("Grace")
    pa, pg = join(ada), join(grace)
    resp = cf.realtime_kit.active_session.mute_participants(meeting.id, **ids, participant_ids=[ada.id])
    assert [p.id for p in resp.data.participants] == [ada.id]
    assert pa.wait_for("muted")["by"] == "host"
    assert active(cf, ids, meeting).live_participants == 2


@needs("active_session.mute_all_participants")
def test_mute_all_participants(cf, ids, meeting, member, join):
    peers = [join(member("Ada")), join(member("Grace"))]
    resp = cf.realtime_kit.active_session.mute_all_participants(meeting.id, **ids, allow_unmute=True)
    assert resp.data.muted_participants_count == 2
    for peer in peers:
        peer.wait_for("muted")


# ---------------------------------------------------------------------------------------------
# Breakout rooms (created through rtk's own endpoints: the SDKs have none)


def test_include_breakout_rooms_lists_the_rooms_sessions(cf, acc, ids, meeting, member, join):
    ada, grace = member("Ada"), member("Grace")
    pa, pg = join(ada), join(grace)
    sid = pa.session_id
    base = f"/accounts/{acc}/realtime/kit/{ids['app_id']}/meetings/{meeting.id}/active-session/breakout-rooms"
    room = cf.post(base, cast_to=object, body={"rooms": [{"title": "Room 1"}]})["data"]["breakout_rooms"][0]
    cf.post(base + "/move", cast_to=object, body={"to_meeting_id": room["id"], "participant_ids": [grace.id]})
    moved = pg.wait_for("moved")
    assert moved["meeting_id"] == room["id"]

    assert details(cf, ids, sid).breakout_rooms is None
    d = details(cf, ids, sid, include_breakout_rooms=True)
    assert [(r["id"], r["associated_id"], r["status"], r["live_participants"]) for r in d.breakout_rooms] == [
        (moved["session_id"], room["id"], "LIVE", 1)
    ]
    assert d.live_participants == 1
    assert [r["id"] for r in active(cf, ids, meeting).breakout_rooms] == [moved["session_id"]]

    raw = participants(cf, ids, sid)
    assert [r["id"] for r in raw] == [pa.peer_id, pg.peer_id]
    assert raw[1]["left_at"]  # left the main session for the room
    consolidated = participants(cf, ids, sid, view="consolidated")
    assert [r["user_id"] for r in consolidated] == [ada.id, grace.id]
    assert consolidated[1].get("left_at") is None  # still in the room
    assert consolidated[1]["duration"] > raw[1]["duration"]


# ---------------------------------------------------------------------------------------------
# Not found


def test_unknown_sessions_and_peers_are_not_found(cf, acc, ids, meeting, member, join):
    pa = join(member("Ada"))
    missing = unique("no-session")
    for call in (
        lambda: cf.realtime_kit.sessions.get_session_details(missing, **ids),
        lambda: cf.realtime_kit.sessions.get_session_participants(missing, **ids),
        lambda: cf.realtime_kit.sessions.get_session_chat(missing, **ids),
        lambda: cf.realtime_kit.sessions.get_session_participant_details(pa.peer_id, **ids, session_id=missing),
    ):
        with pytest.raises(cloudflare.NotFoundError) as e:
            call()
        assert_api_error(e, 404, f"No session found with id {missing}")
    no_peer = unique("no-peer")
    with pytest.raises(cloudflare.NotFoundError) as e:
        cf.realtime_kit.sessions.get_participant_data_from_peer_id(no_peer, **ids)
    assert_api_error(e, 404, f"No peer found with id {no_peer}")

    # Another app of the same account sees neither the session nor the peer.
    other = cf.realtime_kit.apps.post(account_id=acc, name=unique("other")).data.app
    with pytest.raises(cloudflare.NotFoundError) as e:
        cf.realtime_kit.sessions.get_session_details(pa.session_id, account_id=acc, app_id=other.id)
    assert_api_error(e, 404, f"No session found with id {pa.session_id}")
    with pytest.raises(cloudflare.NotFoundError):
        cf.realtime_kit.sessions.get_participant_data_from_peer_id(pa.peer_id, account_id=acc, app_id=other.id)
    listed = cf.realtime_kit.sessions.get_sessions(other.id, account_id=acc)
    assert listed.data.sessions == []
    assert paging(listed)["total_count"] == 0


def test_a_meeting_nobody_joined_has_no_active_session(cf, acc, app, ids, meeting):
    assert_no_active_session(cf, ids, meeting)
    assert cf.realtime_kit.sessions.get_sessions(app.id, account_id=acc, associated_id=meeting.id).data.sessions == []
