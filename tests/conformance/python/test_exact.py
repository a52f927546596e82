"""Exact values through the SDK on a manual clock (a second rtk, `--clock manual`): a recording
paused 10 s of a 40 s interval has recording_duration 30; the session's end after its keep-alive
stops a recording with ALL_PEERS_LEFT at that moment; analytics/daywise equals a brute-force count
over the sessions and recordings the SDK lists.
"""

from datetime import datetime, timedelta, timezone

import httpx
import pytest

import rtkconf
from conftest import MANUAL_ADMIN, MANUAL_START
from peers import WsPeer
from rtkconf import as_datetime, unique

T0 = datetime.fromisoformat(MANUAL_START.replace("Z", "+00:00"))


def advance(rtk, seconds: float) -> None:
    r = httpx.post(
        f"{rtk.origin}/_rtk/clock/advance",
        json={"milliseconds": int(seconds * 1000)},
        headers={"Authorization": f"Bearer {MANUAL_ADMIN}"},
    )
    assert r.status_code == 200, r.text


def now(rtk) -> datetime:
    r = httpx.get(f"{rtk.origin}/_rtk/clock", headers={"Authorization": f"Bearer {MANUAL_ADMIN}"})
    return datetime.fromisoformat(r.json()["data"]["now"].replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def mcf(rtk_manual):
    return rtk_manual.client()


@pytest.fixture
def room(rtk_manual, mcf):
    acc = rtk_manual.account_id
    app = mcf.realtime_kit.apps.post(account_id=acc, name=unique("exact")).data.app
    mcf.realtime_kit.presets.create(app.id, account_id=acc, **rtkconf.preset_document("host"))
    meeting = mcf.realtime_kit.meetings.create(app.id, account_id=acc, title="Exact", session_keep_alive_time_in_secs=60).data
    opened = []

    def join(name: str) -> WsPeer:
        p = mcf.realtime_kit.meetings.add_participant(
            meeting.id, account_id=acc, app_id=app.id, custom_participant_id=unique(name), preset_name="host", name=name
        ).data
        peer = WsPeer(rtk_manual.origin, p.token)
        opened.append(peer)
        return peer

    yield {"acc": acc, "app": app, "meeting": meeting, "join": join, "ids": {"account_id": acc, "app_id": app.id}}
    for p in opened:
        p.stop()


def test_pause_excluded_and_ended_by_keep_alive(rtk_manual, mcf, room):
    r, ids = mcf.realtime_kit.recordings, room["ids"]
    peer = room["join"]("ada")
    start = now(rtk_manual)
    rec = r.start_recordings(room["app"].id, account_id=room["acc"], meeting_id=room["meeting"].id).data
    advance(rtk_manual, 10)
    r.pause_resume_stop_recording(rec.id, **ids, action="pause")
    advance(rtk_manual, 10)
    r.pause_resume_stop_recording(rec.id, **ids, action="resume")
    advance(rtk_manual, 20)
    stopped = r.pause_resume_stop_recording(rec.id, **ids, action="stop").data
    assert as_datetime(stopped.stopped_time) - as_datetime(stopped.started_time) == timedelta(seconds=40)
    done = r.get_one_recording(rec.id, **ids).data
    assert (done.status, done.recording_duration) == ("UPLOADED", 30)
    assert as_datetime(done.started_time) == start

    # A second recording, then the last peer leaves: it stops when the keep-alive runs out.
    rec2 = r.start_recordings(room["app"].id, account_id=room["acc"], meeting_id=room["meeting"].id).data
    advance(rtk_manual, 5)
    left_at = now(rtk_manual)
    peer.leave()
    advance(rtk_manual, 59)
    assert r.get_one_recording(rec2.id, **ids).data.status == "RECORDING"
    advance(rtk_manual, 1)
    d = r.get_one_recording(rec2.id, **ids).data
    assert (d.status, d.stop_reason.reason, d.recording_duration) == ("UPLOADED", "ALL_PEERS_LEFT", 65)
    assert as_datetime(d.stopped_time) == left_at + timedelta(seconds=60)
    s = mcf.realtime_kit.sessions.get_session_details(peer.session_id, **ids).data
    # 5.0.0 models the session as `data.session`, 5.9.0 flat under `data`.
    session = s.session if "session" in type(s).model_fields else s
    assert session.status == "ENDED"


def test_daywise_equals_a_brute_force_count(rtk_manual, mcf, room):
    ids = room["ids"]
    for who, secs in [("a", 90), ("b", 30)]:
        p = room["join"](who)
        mcf.realtime_kit.recordings.start_recordings(room["app"].id, account_id=room["acc"], meeting_id=room["meeting"].id)
        advance(rtk_manual, secs)
        p.leave()
        advance(rtk_manual, 61)
    sessions = mcf.realtime_kit.sessions.get_sessions(room["app"].id, account_id=room["acc"], per_page=100).data.sessions
    recordings = mcf.realtime_kit.recordings.get_recordings(room["app"].id, account_id=room["acc"], per_page=100).data
    day = now(rtk_manual).date().isoformat()
    a = mcf.realtime_kit.analytics.get_org_analytics(room["app"].id, account_id=room["acc"], start_date=day, end_date=day).data
    ended = [s for s in sessions if s.status == "ENDED"]
    assert a.session_stats.sessions_count == len(sessions) == 2
    assert a.session_stats.sessions_minutes_consumed == pytest.approx(sum(s.minutes_consumed for s in ended))
    assert a.session_stats.sessions_minutes_consumed == pytest.approx(2.0)
    assert a.recording_stats.recording_count == len(recordings) == 2
    secs = sum(x.recording_duration for x in recordings)
    assert a.recording_stats.recording_minutes_consumed == pytest.approx(secs / 60)
    assert a.recording_stats.day_stats[0].total_recording_minutes == round(secs / 60)
