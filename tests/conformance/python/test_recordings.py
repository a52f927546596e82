"""Recordings: start_recordings, get_active_recordings, get_one_recording, get_recordings (its
filters and paging), pause_resume_stop_recording, start_track_recording; and the file behind
`download_url` (JSON and WebVTT), with a session made by a real peer on the gateway.

The server runs on the real clock: durations are checked as bounds; exact durations (a pause
excluded to the second, max_seconds, keep-alive) are tested on the manual clock in
crates/rtk-server/tests/it/recordings.rs.
"""

import json
import time

import cloudflare
import httpx
import pytest

from rtkconf import as_datetime, assert_api_error, assert_recent, paging, sdk_has, unique

STATUSES = {"INVOKED", "RECORDING", "UPLOADING", "UPLOADED", "ERRORED", "PAUSED"}


@pytest.fixture
def live(cf, acc, app, preset, meeting, ws_join):
    """A peer in `meeting`'s live session (a WebSocket peer: it can chat)."""
    p = cf.realtime_kit.meetings.add_participant(
        meeting.id, account_id=acc, app_id=app.id, custom_participant_id=unique("rec"), preset_name="host", name="Grace"
    ).data
    return ws_join(p)


def rec_api(cf):
    return cf.realtime_kit.recordings


def test_start_pause_resume_stop_and_download(cf, ids, app, meeting, live):
    r = rec_api(cf)
    started = r.start_recordings(
        app.id,
        account_id=ids["account_id"],
        meeting_id=meeting.id,
        file_name_prefix="standup",
        max_seconds=600,
        video_config={"codec": "H264", "width": 1280, "height": 720},
        audio_config={"codec": "AAC", "channel": "stereo"},
    )
    assert started.success is True
    rec = started.data
    assert rec.status == "INVOKED"
    assert rec.session_id == live.session_id
    assert_recent(rec.invoked_time)
    assert rec.output_file_name == f"standup_{rec.id}.json"
    assert rec.download_url is None and rec.stopped_time is None
    assert rec.start_reason.reason == "API_CALL" and rec.start_reason.caller.type == "ORGANIZATION"

    one = r.get_one_recording(rec.id, **ids).data
    assert one.status == "RECORDING" and one.started_time is not None
    active = r.get_active_recordings(meeting.id, **ids).data
    assert active.id == rec.id and active.status == "RECORDING"

    with pytest.raises(cloudflare.ConflictError) as e:
        r.start_recordings(app.id, account_id=ids["account_id"], meeting_id=meeting.id)
    assert_api_error(e, 409, "Recording already in progress")
    with pytest.raises(cloudflare.ConflictError) as e:
        r.pause_resume_stop_recording(rec.id, **ids, action="resume")
    assert_api_error(e, 409, "it is RECORDING")

    live.chat("hello, recorder")
    paused = r.pause_resume_stop_recording(rec.id, **ids, action="pause").data
    assert paused.status == "PAUSED"
    resumed = r.pause_resume_stop_recording(rec.id, **ids, action="resume").data
    assert resumed.status == "RECORDING"
    t0 = time.monotonic()
    stopped = r.pause_resume_stop_recording(rec.id, **ids, action="stop").data
    assert stopped.status == "UPLOADING" and stopped.stop_reason.reason == "API_CALL"
    assert as_datetime(stopped.stopped_time) >= as_datetime(stopped.started_time)

    done = r.get_one_recording(rec.id, **ids).data
    assert done.status == "UPLOADED"
    assert done.recording_duration is not None and 0 <= done.recording_duration <= 60
    assert done.download_url and done.download_url_expiry is not None
    assert (as_datetime(done.download_url_expiry) - as_datetime(done.stopped_time)).days == 7
    with pytest.raises(cloudflare.NotFoundError):
        r.get_active_recordings(meeting.id, **ids)

    got = httpx.get(done.download_url)
    assert got.status_code == 200 and got.headers["content-type"] == "application/json"
    assert done.file_size == len(got.content)
    doc = got.json()
    assert doc["format"] == "rtk-recording/1" and doc["recording_id"] == rec.id
    kinds = [e["type"] for e in doc["events"]]
    assert kinds[0] in ("peer_joined", "peer_present") and "chat" in kinds and "paused" in kinds
    chat = next(e for e in doc["events"] if e["type"] == "chat")
    assert chat["message"] == "hello, recorder" and chat["peer_id"] == live.peer_id
    vtt = httpx.get(done.download_url + ".vtt")
    assert vtt.status_code == 200 and vtt.text.startswith("WEBVTT")
    assert "Grace: hello, recorder" in vtt.text
    assert time.monotonic() - t0 < 60


def test_list_filters_and_paging(cf, ids, app, meeting, live):
    r = rec_api(cf)
    made = [
        r.start_recordings(app.id, account_id=ids["account_id"], meeting_id=meeting.id, allow_multiple_recordings=True).data
        for _ in range(3)
    ]
    r.pause_resume_stop_recording(made[0].id, **ids, action="stop")
    r.pause_resume_stop_recording(made[1].id, **ids, action="pause")

    listed = r.get_recordings(app.id, account_id=ids["account_id"])
    assert listed.success is True
    assert [x.id for x in listed.data] == [m.id for m in reversed(made)], "newest first"
    assert paging(listed) == {"total_count": 3, "start_offset": 1, "end_offset": 3}
    assert all(x.status in STATUSES for x in listed.data)
    assert listed.data[0].meeting.id == meeting.id and listed.data[0].meeting.title == meeting.title

    asc = r.get_recordings(app.id, account_id=ids["account_id"], sort_by="invokedTime", sort_order="ASC", per_page=2, page_no=2)
    assert [x.id for x in asc.data] == [made[2].id]
    assert paging(asc)["total_count"] == 3
    some = r.get_recordings(app.id, account_id=ids["account_id"], status=["UPLOADED", "PAUSED"], sort_order="ASC")
    assert [x.id for x in some.data] == [made[0].id, made[1].id]
    assert [x.id for x in r.get_recordings(app.id, account_id=ids["account_id"], meeting_id=meeting.id, status=["RECORDING"]).data] == [made[2].id]
    assert paging(r.get_recordings(app.id, account_id=ids["account_id"], search=meeting.title.upper()))["total_count"] == 3
    assert paging(r.get_recordings(app.id, account_id=ids["account_id"], expired=True))["total_count"] == 0
    assert paging(r.get_recordings(app.id, account_id=ids["account_id"], expired=False))["total_count"] == 3
    later = r.get_recordings(app.id, account_id=ids["account_id"], start_time=made[1].invoked_time, sort_order="ASC")
    assert [x.id for x in later.data][:1] == [made[1].id]

    with pytest.raises(cloudflare.BadRequestError) as e:
        r.get_recordings(app.id, account_id=ids["account_id"], extra_query={"status": "DONE"})
    assert_api_error(e, 400, "status")


def test_errors(cf, ids, app, meeting):
    r = rec_api(cf)
    with pytest.raises(cloudflare.ConflictError) as e:
        r.start_recordings(app.id, account_id=ids["account_id"], meeting_id=meeting.id)
    assert_api_error(e, 409, "no live session")
    with pytest.raises(cloudflare.NotFoundError) as e:
        r.start_recordings(app.id, account_id=ids["account_id"], meeting_id="no-such-meeting")
    assert_api_error(e, 404, "No meeting found")
    with pytest.raises(cloudflare.BadRequestError) as e:
        r.start_recordings(app.id, account_id=ids["account_id"], meeting_id=meeting.id, max_seconds=5)
    assert_api_error(e, 400, "max_seconds")
    with pytest.raises(cloudflare.NotFoundError) as e:
        r.get_one_recording("no-such-recording", **ids)
    assert_api_error(e, 404, "No recording found")
    with pytest.raises(cloudflare.NotFoundError):
        r.pause_resume_stop_recording("no-such-recording", **ids, action="stop")
    with pytest.raises(cloudflare.NotFoundError) as e:
        r.get_active_recordings(meeting.id, **ids)
    assert_api_error(e, 404, "No active recording")


def test_track_recording(cf, ids, app, meeting, live):
    r = rec_api(cf)
    # 5.0.0 has no `user_ids`: it goes as an extra body member there.
    who = {"user_ids": [live.participant_id]}
    named = who if sdk_has("recordings.start_track_recording", "user_ids") else {"extra_body": who}
    out = r.start_track_recording(
        app.id,
        account_id=ids["account_id"],
        meeting_id=meeting.id,
        layers={"default": {"file_name_prefix": "tracks", "media_kind": "audio"}},
        **named,
    )
    listed = r.get_recordings(app.id, account_id=ids["account_id"]).data
    assert len(listed) == 1
    rec = listed[0]
    assert rec.output_file_name.startswith("tracks_") and rec.session_id == live.session_id
    if out is not None:  # 5.9.0 models the answer; 5.0.0 returns None
        assert out.success is True and out.data.recording.id == rec.id
    # It sits beside a composite recording of the same meeting.
    composite = r.start_recordings(app.id, account_id=ids["account_id"], meeting_id=meeting.id).data
    assert composite.id != rec.id
    stopped = r.pause_resume_stop_recording(rec.id, **ids, action="stop").data
    assert stopped.status == "UPLOADING"
    doc = httpx.get(r.get_one_recording(rec.id, **ids).data.download_url).json()
    assert doc["kind"] == "track"
    assert [p["peer_id"] for p in doc["participants"]] == [live.peer_id]


def test_session_meta_lists_its_recordings(cf, ids, app, meeting, live):
    r = rec_api(cf)
    rec = r.start_recordings(app.id, account_id=ids["account_id"], meeting_id=meeting.id).data
    r.pause_resume_stop_recording(rec.id, **ids, action="stop")
    resp = cf.realtime_kit.sessions.get_session_details(live.session_id, **ids)
    data = resp.data.to_dict()
    session = data.get("session", data)
    meta = session["meta"]
    assert [x["id"] for x in meta["recordings"]] == [rec.id], json.dumps(meta)
    assert meta["recordings"][0]["status"] == "UPLOADED"
