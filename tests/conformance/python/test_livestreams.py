"""Livestreams: start_livestreaming_a_meeting, get_meeting_active_livestreams,
get_active_livestreams_for_livestream_id, stop_livestreaming_a_meeting, get_all_livestreams (its
filters), get_livestream_session_for_livestream_id, get_livestream_session_details_for_session_id,
get_livestream_analytics_complete, get_livestream_analytics_daywise (5.9.0) and
create_independent_livestream (5.0.0), on a real ingest: ffmpeg publishes an H.264 + AAC test
pattern to the `ingest_server` + `stream_key` the SDK returned, ffprobe reads `playback_url`,
a player's time accrues as viewer seconds; and the `livestreaming.statusUpdate` deliveries,
signatures verified.

The server runs on the real clock, so durations are bounds here; the exact seconds are tested on
the manual clock in crates/rtk-server/tests/it/livestreams.rs. Waiting on ffmpeg (an external
process) is a poll of the API: no event of the server's says the encoder has connected.
"""

import os
import shutil
import subprocess
import time
from datetime import datetime, timedelta, timezone

import cloudflare
import httpx
import pytest

from hooks import verify
from rtkconf import SDK_VERSION, as_datetime, assert_api_error, assert_recent, needs, unique

STATUSES = {"INVOKED", "LIVE", "IDLE", "ERRORED"}
WAIT_S = 30.0


def _ffmpeg() -> bool:
    if shutil.which("ffmpeg") and shutil.which("ffprobe"):
        return True
    if os.environ.get("CI") or os.environ.get("RTK_TEST_REQUIRE_FFMPEG"):
        pytest.fail("ffmpeg and ffprobe are required here (apt-get install ffmpeg)")
    return False


media = pytest.mark.skipif(not _ffmpeg(), reason="ffmpeg/ffprobe are not installed")


def publish(url: str, secs: int = 120) -> subprocess.Popen:
    """ffmpeg publishing a test pattern with a tone to `url` in real time."""
    return subprocess.Popen(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-re",
         "-f", "lavfi", "-i", "testsrc=size=160x120:rate=15",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
         "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "15",
         "-c:a", "aac", "-b:a", "64k", "-t", str(secs), "-f", "flv", url],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip


def until(what: str, fn):
    """Polls `fn` until it returns something truthy (404s count as not yet)."""
    deadline = time.monotonic() + WAIT_S
    while True:
        try:
            got = fn()
        except cloudflare.NotFoundError:
            got = None
        if got:
            return got
        assert time.monotonic() < deadline, f"{what}: not in {WAIT_S}s"
        time.sleep(0.05)


@pytest.fixture
def ffmpeg():
    started: "list[subprocess.Popen]" = []

    def _start(url: str) -> subprocess.Popen:
        p = publish(url)
        started.append(p)
        return p

    yield _start
    for p in started:
        p.kill()
        p.wait()


def ls_api(cf):
    return cf.realtime_kit.livestreams


def assert_livestream(x, *, lid, meeting_id, status, disabled):
    assert x.id == lid and x.meeting_id == meeting_id
    assert x.status == status, x
    assert x.disabled == disabled, "a string in these models"
    assert x.ingest_server.startswith("rtmp://127.0.0.1:") and x.ingest_server.endswith("/live/")
    assert x.playback_url.startswith("http://127.0.0.1:") and lid in x.playback_url
    assert x.stream_key
    assert as_datetime(x.updated_at) >= as_datetime(x.created_at)


@media
def test_meeting_livestream_ingest_playback_stop(rtk, cf, ids, app, meeting, ffmpeg, receiver):
    public_key = httpx.get(f"{rtk.origin}/.well-known/webhooks.json").json()["data"]["publicKey"]
    cf.realtime_kit.webhooks.create_webhook(
        app.id, account_id=ids["account_id"], name="live", url=receiver.url, events=["livestreaming.statusUpdate"]
    )
    api = ls_api(cf)
    with pytest.raises(cloudflare.NotFoundError) as e:
        api.get_meeting_active_livestreams(meeting.id, **ids)
    assert_api_error(e, 404, "livestream")

    started = api.start_livestreaming_a_meeting(
        meeting.id, **ids, name="keynote", video_config={"width": 160, "height": 120}
    )
    assert started.success is True
    s = started.data
    assert s.status == "INVOKED" and s.id and s.stream_key
    assert s.ingest_server.startswith("rtmp://127.0.0.1:") and s.ingest_server.endswith("/live/")
    with pytest.raises(cloudflare.ConflictError) as e:
        api.start_livestreaming_a_meeting(meeting.id, **ids, name="again")
    assert_api_error(e, 409, "livestream")
    with pytest.raises(cloudflare.BadRequestError):
        api.start_livestreaming_a_meeting(meeting.id, **ids, video_config={"width": "wide"})

    active = api.get_meeting_active_livestreams(meeting.id, **ids).data
    assert_livestream(active, lid=s.id, meeting_id=meeting.id, status="INVOKED", disabled="false")
    assert active.name == "keynote" and active.stream_key == s.stream_key
    assert_recent(active.created_at)

    # A key the API never issued is refused.
    wrong = publish(s.ingest_server + "not-a-key", 3)
    assert wrong.wait(timeout=WAIT_S) != 0

    t0 = time.monotonic()
    encoder = ffmpeg(s.ingest_server + s.stream_key)
    live = until("the ingest", lambda: api.get_active_livestreams_for_livestream_id(s.id, **ids).data)
    assert live.livestream.status == "LIVE" and live.livestream.id == s.id
    sess = live.session
    assert sess.livestream_id == s.id and sess.stopped_time is None and sess.err_message is None
    assert_recent(sess.started_time)
    assert isinstance(sess.ingest_seconds, str) and int(sess.ingest_seconds) >= 0
    assert api.get_meeting_active_livestreams(meeting.id, **ids).data.status == "LIVE"

    # A second publisher on the key is refused while the first publishes.
    second = publish(s.ingest_server + s.stream_key, 3)
    assert second.wait(timeout=WAIT_S) != 0

    # What a player sees: a video and an audio stream.
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name", "-of", "csv=p=0", s.playback_url],
        capture_output=True, text=True, timeout=WAIT_S,
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    assert "h264,video" in probe.stdout and "aac,audio" in probe.stdout, probe.stdout

    # A player that watches for about 2 s.
    watched = time.monotonic()
    with httpx.stream("GET", s.playback_url, timeout=WAIT_S) as player:
        assert player.status_code == 200 and player.headers["content-type"] == "video/x-flv"
        got = b""
        for chunk in player.iter_bytes():
            got += chunk
            if time.monotonic() - watched >= 2.0:
                break
        assert got[:3] == b"FLV"
    watched = time.monotonic() - watched
    viewer = until(
        "the player's time",
        lambda: (v := api.get_active_livestreams_for_livestream_id(s.id, **ids).data.session).viewer_seconds != "0" and v,
    )
    assert 2 <= int(viewer.viewer_seconds) <= watched + 2 + 1, (viewer.viewer_seconds, watched)

    stopped = api.stop_livestreaming_a_meeting(meeting.id, **ids)
    assert stopped.success is True and s.id in stopped.data.message
    assert encoder.wait(timeout=WAIT_S) is not None, "the stop cuts the encoder off"
    ingest_bound = time.monotonic() - t0 + 1
    with pytest.raises(cloudflare.NotFoundError):
        api.get_meeting_active_livestreams(meeting.id, **ids)
    with pytest.raises(cloudflare.NotFoundError):
        api.get_active_livestreams_for_livestream_id(s.id, **ids)
    with pytest.raises(cloudflare.NotFoundError):
        api.stop_livestreaming_a_meeting(meeting.id, **ids)
    assert publish(s.ingest_server + s.stream_key, 3).wait(timeout=WAIT_S) != 0, "a stopped key is refused"
    assert httpx.get(s.playback_url).status_code == 404

    one = api.get_livestream_session_for_livestream_id(s.id, **ids, page_no=1, per_page=10).data
    assert_livestream(one.livestream, lid=s.id, meeting_id=meeting.id, status="IDLE", disabled="true")
    assert one.paging.total_count == 1 and one.paging.start_offset == 1 and one.paging.end_offset == 1
    done = one.session
    assert done.id == sess.id and done.err_message is None
    assert 1 <= done.ingest_seconds <= ingest_bound, (done.ingest_seconds, ingest_bound)
    assert done.viewer_seconds == int(viewer.viewer_seconds)
    assert as_datetime(done.stopped_time) > as_datetime(done.started_time)
    detail = api.get_livestream_session_details_for_session_id(done.id, **ids).data
    assert (detail.id, detail.livestream_id) == (done.id, s.id)
    assert detail.ingest_seconds == done.ingest_seconds and detail.viewer_seconds == done.viewer_seconds
    with pytest.raises(cloudflare.NotFoundError) as e:
        api.get_livestream_session_details_for_session_id("not-a-session", **ids)
    assert_api_error(e, 404, "not-a-session")

    # The list: the page's first livestream flat under data.
    listed = api.get_all_livestreams(app.id, account_id=ids["account_id"])
    assert listed.data.id == s.id and listed.data.status == "IDLE"
    assert listed.data.paging.total_count == 1
    hour = timedelta(hours=1)
    now = datetime.now(timezone.utc)
    assert api.get_all_livestreams(app.id, account_id=ids["account_id"], status="IDLE", sort_order="ASC",
                                   start_time=now - hour, end_time=now + hour).data.id == s.id  # fmt: skip
    assert api.get_all_livestreams(app.id, account_id=ids["account_id"], status="LIVE").data.paging.total_count == 0
    none = api.get_all_livestreams(app.id, account_id=ids["account_id"], exclude_meetings=True).data
    assert none.id is None and none.paging.total_count == 0

    # Analytics: the one ingest, as the session reads.
    if SDK_VERSION >= (5, 9, 0):
        rng = {"start_time": int((now - hour).timestamp()), "end_time": int((now + hour).timestamp())}
    else:  # 5.0.0 sends ISO date-times
        rng = {"start_time": now - hour, "end_time": now + hour}
    total = api.get_livestream_analytics_complete(app.id, account_id=ids["account_id"], **rng).data
    assert (total.count, total.total_ingest_seconds, total.total_viewer_seconds) == (
        1,
        done.ingest_seconds,
        done.viewer_seconds,
    )
    if SDK_VERSION >= (5, 9, 0):
        days = api.get_livestream_analytics_daywise(app.id, account_id=ids["account_id"], **rng).data
        assert sum(d.count for d in days) == 1 and sum(d.total_ingest_seconds for d in days) == done.ingest_seconds
        assert now.date().isoformat() in [d.date for d in days]

    # The webhook: LIVE when the ingest started, OFFLINE at the stop; signed.
    got = receiver.wait_for(2)
    assert [d.json["status"] for d in got] == ["LIVE", "OFFLINE"]
    for d in got:
        assert verify(public_key, d.body, d.headers["rtk-signature"])
        body = d.json
        assert body["event"] == "livestreaming.statusUpdate" and body["streamId"] == s.id
        assert body["manualIngest"] is True
        assert (body["playbackUrl"], body["ingestServer"], body["streamKey"]) == (
            s.playback_url,
            s.ingest_server,
            s.stream_key,
        )


@needs("livestreams.create_independent_livestream")
def test_independent_livestream(cf, ids, app):
    api = ls_api(cf)
    made = api.create_independent_livestream(app.id, account_id=ids["account_id"], name="cam")
    assert made.success is True
    x = made.data
    assert x.disabled is False, "a boolean in this model"
    assert x.meeting_id is None and x.name == "cam" and x.status == "INVOKED"
    listed = api.get_all_livestreams(app.id, account_id=ids["account_id"], exclude_meetings=True).data
    assert listed.id == x.id and listed.stream_key == x.stream_key
    one = api.get_livestream_session_for_livestream_id(x.id, **ids).data
    assert one.livestream.id == x.id and one.session is None and one.paging.total_count == 0


def test_livestream_errors(cf, ids, app, meeting):
    api = ls_api(cf)
    with pytest.raises(cloudflare.NotFoundError) as e:
        api.get_livestream_session_for_livestream_id("nope", **ids)
    assert_api_error(e, 404, "nope")
    with pytest.raises(cloudflare.NotFoundError):
        api.start_livestreaming_a_meeting("no-such-meeting", **ids)
    with pytest.raises(cloudflare.BadRequestError) as e:
        api.get_all_livestreams(app.id, account_id=ids["account_id"], status="BOGUS")
    assert_api_error(e, 400, "status")
    # An empty app: zero analytics for any range.
    total = api.get_livestream_analytics_complete(app.id, account_id=ids["account_id"]).data
    assert (total.count, total.total_ingest_seconds, total.total_viewer_seconds) == (0, 0, 0)
