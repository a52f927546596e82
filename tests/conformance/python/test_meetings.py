"""Meetings: create, get (list), get_meeting_by_id, update_meeting_by_id (PATCH) and
replace_meeting_by_id (PUT)."""

from datetime import timedelta

import cloudflare
import pytest

from rtkconf import as_datetime, assert_api_error, assert_recent, needs, paging, sdk_has, unique

DEFAULTS = {
    "title": None,
    "status": "ACTIVE",
    "record_on_start": False,
    "live_stream_on_start": False,
    "persist_chat": False,
    "summarize_on_end": False,
    "session_keep_alive_time_in_secs": 60,
}

AI_CONFIG = {
    "summarization": {"summary_type": "team_meeting", "text_format": "markdown", "word_limit": 250},
    "transcription": {"keywords": ["rtk", "RealtimeKit"], "language": "en-IN", "profanity_filter": True},
}


def recording_config() -> dict:
    """A full recording config, with only the values this SDK generation's models know."""
    return {
        "audio_config": {"channel": "stereo", "codec": "AAC", "export_file": True},
        "file_name_prefix": "weekly",
        "live_streaming_config": {"rtmp_url": "rtmp://live.example.com/app/key"},
        "max_seconds": 3600,
        "realtimekit_bucket_config": {"enabled": False},
        "storage_config": {
            "type": "aws",
            "access_key": "AKIA-TEST",
            "secret": "s3cr3t",
            "bucket": "recordings",
            "region": "eu-central-1",
            "path": "meetings/",
        },
        "video_config": {
            "codec": "VP9" if sdk_has("meetings.create", "transcribe_on_end") else "VP8",
            "export_file": True,
            "height": 720,
            "width": 1280,
            "watermark": {"position": "right bottom", "size": {"height": 40, "width": 120}, "url": "https://example.com/wm.png"},
        },
    }


def echoed_recording_config() -> dict:
    """What the server returns: a storage config's secrets are write-only."""
    rc = recording_config()
    for k in ("access_key", "secret"):
        del rc["storage_config"][k]
    return rc


def fields(meeting, names) -> dict:
    return {n: getattr(meeting, n) for n in names}


def test_create_with_defaults(cf, acc, app):
    resp = cf.realtime_kit.meetings.create(app.id, account_id=acc)
    assert resp.success is True
    m = resp.data
    assert m.id
    assert fields(m, DEFAULTS) == DEFAULTS
    created = assert_recent(m.created_at)
    assert m.updated_at == created


def test_create_stores_every_field(cf, acc, app):
    extra = {"transcribe_on_end": True} if sdk_has("meetings.create", "transcribe_on_end") else {}
    resp = cf.realtime_kit.meetings.create(
        app.id,
        account_id=acc,
        title="Weekly sync",
        record_on_start=True,
        live_stream_on_start=True,
        persist_chat=True,
        summarize_on_end=True,
        session_keep_alive_time_in_secs=120,
        ai_config=AI_CONFIG,
        recording_config=recording_config(),
        **extra,
    )
    m = resp.data
    expected = {
        "title": "Weekly sync",
        "status": "ACTIVE",
        "record_on_start": True,
        "live_stream_on_start": True,
        "persist_chat": True,
        "summarize_on_end": True,
        "session_keep_alive_time_in_secs": 120,
    }
    assert fields(m, expected) == expected
    if extra:
        assert m.transcribe_on_end is True
    assert m.ai_config.to_dict() == AI_CONFIG
    assert m.ai_config.transcription.language == "en-IN"
    assert m.recording_config.to_dict() == echoed_recording_config()
    assert m.recording_config.storage_config.type == "aws"
    assert "secret" not in m.recording_config.storage_config.to_dict()  # write-only
    assert m.recording_config.video_config.watermark.size.width == 120

    got = cf.realtime_kit.meetings.get_meeting_by_id(m.id, account_id=acc, app_id=app.id).data
    assert got.to_dict() == m.to_dict()


def test_get_meeting_by_id_round_trips(cf, acc, app, meeting):
    resp = cf.realtime_kit.meetings.get_meeting_by_id(meeting.id, account_id=acc, app_id=app.id)
    assert resp.success is True
    assert resp.data.id == meeting.id
    assert resp.data.title == meeting.title
    assert resp.data.to_dict() == meeting.to_dict()
    # The SDK's odd `name` query parameter is accepted and changes nothing.
    named = cf.realtime_kit.meetings.get_meeting_by_id(meeting.id, account_id=acc, app_id=app.id, name="whatever")
    assert named.data.to_dict() == meeting.to_dict()


def test_get_lists_meetings_newest_first_with_paging(cf, acc, app):
    made = [cf.realtime_kit.meetings.create(app.id, account_id=acc, title=f"standup {i}").data for i in range(3)]
    newest_first = [m.id for m in reversed(made)]

    resp = cf.realtime_kit.meetings.get(app.id, account_id=acc)
    assert resp.success is True
    assert [m.id for m in resp.data] == newest_first
    assert [m.title for m in resp.data] == ["standup 2", "standup 1", "standup 0"]
    assert all(m.status == "ACTIVE" for m in resp.data)
    assert paging(resp) == {"total_count": 3, "start_offset": 1, "end_offset": 3}

    page = cf.realtime_kit.meetings.get(app.id, account_id=acc, page_no=2, per_page=2)
    assert [m.id for m in page.data] == newest_first[2:]
    assert paging(page) == {"total_count": 3, "start_offset": 3, "end_offset": 3}
    # page_no and per_page are floats in the SDK's signature: `2.0` must work like `2`.
    page = cf.realtime_kit.meetings.get(app.id, account_id=acc, page_no=1.0, per_page=2.0)
    assert [m.id for m in page.data] == newest_first[:2]
    assert paging(page) == {"total_count": 3, "start_offset": 1, "end_offset": 2}


def test_get_rejects_a_page_size_out_of_range(cf, acc, app):
    with pytest.raises(cloudflare.BadRequestError) as e:
        cf.realtime_kit.meetings.get(app.id, account_id=acc, per_page=500)
    assert_api_error(e, 400, 'invalid query parameter "per_page": must be a whole number from 1 to 100')


def test_get_searches_titles_and_ids(cf, acc, app):
    a = cf.realtime_kit.meetings.create(app.id, account_id=acc, title="Design review").data
    b = cf.realtime_kit.meetings.create(app.id, account_id=acc, title="Budget review").data
    cf.realtime_kit.meetings.create(app.id, account_id=acc, title="Retro")

    found = cf.realtime_kit.meetings.get(app.id, account_id=acc, search="REVIEW")
    assert sorted(m.id for m in found.data) == sorted([a.id, b.id])
    assert paging(found)["total_count"] == 2
    by_id = cf.realtime_kit.meetings.get(app.id, account_id=acc, search=b.id)
    assert [m.title for m in by_id.data] == ["Budget review"]


def test_search_treats_wildcards_literally(cf, acc, app):
    for t in ["100% done", "1000 done", "a_b", "axb"]:
        cf.realtime_kit.meetings.create(app.id, account_id=acc, title=t)
    assert [m.title for m in cf.realtime_kit.meetings.get(app.id, account_id=acc, search="100%").data] == ["100% done"]
    assert [m.title for m in cf.realtime_kit.meetings.get(app.id, account_id=acc, search="a_b").data] == ["a_b"]


def test_get_filters_by_creation_time(cf, acc, app):
    made = [cf.realtime_kit.meetings.create(app.id, account_id=acc, title=f"m{i}").data for i in range(3)]
    first, last = made[0].created_at, made[-1].created_at
    ids = {m.id for m in made}

    everything = cf.realtime_kit.meetings.get(
        app.id, account_id=acc, start_time=first - timedelta(minutes=1), end_time=last + timedelta(minutes=1)
    )
    assert {m.id for m in everything.data} == ids
    # Bounds are inclusive, and the SDK sends them as ISO 8601 with a +00:00 offset.
    since_last = cf.realtime_kit.meetings.get(app.id, account_id=acc, start_time=last)
    assert made[-1].id in {m.id for m in since_last.data}
    assert all(as_datetime(m.created_at) >= last for m in since_last.data)
    before = cf.realtime_kit.meetings.get(app.id, account_id=acc, end_time=first - timedelta(seconds=1))
    assert before.data == []
    assert paging(before)["total_count"] == 0


def test_get_rejects_a_bad_time(cf, acc, app):
    with pytest.raises(cloudflare.BadRequestError) as e:
        cf.realtime_kit.meetings.get(app.id, account_id=acc, start_time="yesterday")
    assert_api_error(e, 400, 'invalid query parameter "start_time"')


@needs("meetings.get", "status")
def test_get_filters_by_status(cf, acc, app):
    active = cf.realtime_kit.meetings.create(app.id, account_id=acc, title="on").data
    ended = cf.realtime_kit.meetings.create(app.id, account_id=acc, title="off").data
    cf.realtime_kit.meetings.update_meeting_by_id(ended.id, account_id=acc, app_id=app.id, status="INACTIVE")

    inactive = cf.realtime_kit.meetings.get(app.id, account_id=acc, status="INACTIVE")
    assert [(m.id, m.status) for m in inactive.data] == [(ended.id, "INACTIVE")]
    assert paging(inactive)["total_count"] == 1
    act = cf.realtime_kit.meetings.get(app.id, account_id=acc, status="ACTIVE")
    assert [m.id for m in act.data] == [active.id]


def test_update_meeting_by_id_changes_only_given_fields(cf, acc, app):
    m = cf.realtime_kit.meetings.create(
        app.id, account_id=acc, title="Before", persist_chat=True, ai_config=AI_CONFIG
    ).data
    resp = cf.realtime_kit.meetings.update_meeting_by_id(
        m.id, account_id=acc, app_id=app.id, title="After", status="INACTIVE", session_keep_alive_time_in_secs=300
    )
    assert resp.success is True
    u = resp.data
    assert u.id == m.id
    assert (u.title, u.status, u.session_keep_alive_time_in_secs) == ("After", "INACTIVE", 300)
    assert u.persist_chat is True  # kept
    assert u.ai_config.to_dict() == AI_CONFIG  # kept
    assert u.created_at == m.created_at
    assert u.updated_at >= m.updated_at

    got = cf.realtime_kit.meetings.get_meeting_by_id(m.id, account_id=acc, app_id=app.id).data
    assert got.to_dict() == u.to_dict()


@needs("meetings.update_meeting_by_id", "recording_config", "transcribe_on_end")
def test_update_meeting_by_id_sets_recording_config(cf, acc, app, meeting):
    u = cf.realtime_kit.meetings.update_meeting_by_id(
        meeting.id, account_id=acc, app_id=app.id, recording_config=recording_config(), transcribe_on_end=True
    ).data
    assert u.recording_config.to_dict() == echoed_recording_config()
    assert u.transcribe_on_end is True
    assert u.title == meeting.title


def test_replace_meeting_by_id_resets_what_is_not_given(cf, acc, app):
    m = cf.realtime_kit.meetings.create(
        app.id, account_id=acc, title="Old", persist_chat=True, record_on_start=True, ai_config=AI_CONFIG
    ).data
    cf.realtime_kit.meetings.update_meeting_by_id(m.id, account_id=acc, app_id=app.id, status="INACTIVE")

    resp = cf.realtime_kit.meetings.replace_meeting_by_id(
        m.id, account_id=acc, app_id=app.id, title="New", summarize_on_end=True
    )
    assert resp.success is True
    r = resp.data
    expected = dict(DEFAULTS, title="New", summarize_on_end=True, status="INACTIVE")  # status is kept
    assert fields(r, expected) == expected
    assert r.ai_config is None
    assert r.created_at == m.created_at

    got = cf.realtime_kit.meetings.get_meeting_by_id(m.id, account_id=acc, app_id=app.id).data
    assert got.to_dict() == r.to_dict()


def test_title_can_be_cleared_with_null(cf, acc, app, meeting):
    r = cf.realtime_kit.meetings.replace_meeting_by_id(meeting.id, account_id=acc, app_id=app.id, title=None).data
    assert r.title is None


def test_unknown_meeting_is_not_found(cf, acc, app):
    missing = unique("no-meeting")
    with pytest.raises(cloudflare.NotFoundError) as e:
        cf.realtime_kit.meetings.get_meeting_by_id(missing, account_id=acc, app_id=app.id)
    assert_api_error(e, 404, f"No meeting found with id {missing}")
    with pytest.raises(cloudflare.NotFoundError):
        cf.realtime_kit.meetings.update_meeting_by_id(missing, account_id=acc, app_id=app.id, title="x")
    with pytest.raises(cloudflare.NotFoundError):
        cf.realtime_kit.meetings.replace_meeting_by_id(missing, account_id=acc, app_id=app.id, title="x")


@pytest.mark.parametrize("missing", ["a b", "a/b", "ü", "%41"])
def test_ids_are_path_encoded_and_decoded(cf, acc, app, missing):
    with pytest.raises(cloudflare.NotFoundError) as e:
        cf.realtime_kit.meetings.get_meeting_by_id(missing, account_id=acc, app_id=app.id)
    assert_api_error(e, 404, f"No meeting found with id {missing}")


def test_meetings_of_an_unknown_app_are_not_found(cf, acc):
    missing = unique("no-app")
    with pytest.raises(cloudflare.NotFoundError) as e:
        cf.realtime_kit.meetings.create(missing, account_id=acc, title="x")
    assert_api_error(e, 404, f"No app found with id {missing}")


def test_create_rejects_invalid_fields_and_names_them(cf, acc, app):
    with pytest.raises(cloudflare.BadRequestError) as e:
        cf.realtime_kit.meetings.create(
            app.id,
            account_id=acc,
            session_keep_alive_time_in_secs=100000,
            ai_config={"transcription": {"language": "xx"}},
        )
    assert_api_error(e, 400, '"session_keep_alive_time_in_secs" must be a whole number of seconds from 0 to 600')
    assert_api_error(e, 400, '"ai_config.transcription.language" must be one of')
    assert cf.realtime_kit.meetings.get(app.id, account_id=acc).data == []


def test_update_rejects_an_unknown_status(cf, acc, app, meeting):
    with pytest.raises(cloudflare.BadRequestError) as e:
        cf.realtime_kit.meetings.update_meeting_by_id(meeting.id, account_id=acc, app_id=app.id, status="PAUSED")
    assert_api_error(e, 400, '"status" must be one of ACTIVE, INACTIVE')
