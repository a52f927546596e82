"""Analytics: analytics.get_org_analytics (day-wise sessions and recordings) against what the
sessions and recordings lists say, with a session made by a real peer.

Exact minutes across days and midnight are tested on the manual clock in
crates/rtk-server/tests/it/analytics.rs; here the real clock runs, so the live session counts
and its minutes are not in yet.
"""

from datetime import datetime, timedelta, timezone

import cloudflare
import pytest

from rtkconf import assert_api_error, unique


def test_daywise_counts_what_happened(cf, acc, app, preset, meeting, ws_join):
    p = cf.realtime_kit.meetings.add_participant(
        meeting.id, account_id=acc, app_id=app.id, custom_participant_id=unique("an"), preset_name="host", name="Ana"
    ).data
    peer = ws_join(p)
    cf.realtime_kit.recordings.start_recordings(app.id, account_id=acc, meeting_id=meeting.id)
    today = datetime.now(timezone.utc).date()
    start = (today - timedelta(days=2)).isoformat()
    resp = cf.realtime_kit.analytics.get_org_analytics(app.id, account_id=acc, start_date=start, end_date=today.isoformat())
    assert resp.success is True
    ss, rs = resp.data.session_stats, resp.data.recording_stats
    assert [d.day for d in ss.day_stats] == [(today - timedelta(days=k)).isoformat() for k in (2, 1, 0)]
    assert [d.total_sessions for d in ss.day_stats] == [0, 0, 1]
    assert ss.sessions_count == 1 and ss.sessions_minutes_consumed == 0, "live: counted, its minutes not yet"
    assert [d.total_recordings for d in rs.day_stats] == [0, 0, 1]
    assert rs.recording_count == 1 and rs.day_stats[2].total_recording_minutes == 0
    sessions = cf.realtime_kit.sessions.get_sessions(app.id, account_id=acc).data.sessions
    assert [s.id for s in sessions] == [peer.session_id]

    # The SDKs model the same endpoint again under livestreams.
    again = cf.realtime_kit.livestreams.get_org_analytics(app.id, account_id=acc, start_date=start, end_date=today.isoformat())
    assert again.data.to_dict() == resp.data.to_dict()

    default = cf.realtime_kit.analytics.get_org_analytics(app.id, account_id=acc).data.session_stats
    assert len(default.day_stats) == 30 and default.day_stats[-1].day == today.isoformat()
    assert default.sessions_count == 1


def test_daywise_errors(cf, acc, app):
    with pytest.raises(cloudflare.BadRequestError) as e:
        cf.realtime_kit.analytics.get_org_analytics(app.id, account_id=acc, start_date="2026-02-30")
    assert_api_error(e, 400, "start_date")
    with pytest.raises(cloudflare.BadRequestError) as e:
        cf.realtime_kit.analytics.get_org_analytics(app.id, account_id=acc, start_date="1900-01-01", end_date="2026-03-01")
    assert_api_error(e, 400, "at most 36525")
    backwards = cf.realtime_kit.analytics.get_org_analytics(app.id, account_id=acc, start_date="2026-03-02", end_date="2026-03-01")
    assert backwards.data.session_stats.day_stats == [] and backwards.data.session_stats.sessions_count == 0
