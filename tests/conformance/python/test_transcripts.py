"""Transcripts and summaries: sessions.get_session_transcripts (each format),
generate_summary_of_transcripts, get_session_summary; the segments come from a real peer over
the gateway (its `transcript` message). Exact timings and the summariser command are tested in
crates/rtk-server/tests/it/transcripts.rs.
"""

import csv
import io
import json

import cloudflare
import httpx
import pytest

from rtkconf import as_datetime, assert_api_error, sdk_has, unique


def speak(peer, text: str) -> dict:
    peer.ws.send(json.dumps({"type": "transcript", "text": text}))
    ev = peer.wait_for("transcript")
    assert ev["final"] is True and ev["text"] == text and ev["peer_id"] == peer.peer_id, ev
    return ev


def test_transcript_formats_and_summary(cf, ids, app, preset, meeting, ws_join):
    p = cf.realtime_kit.meetings.add_participant(
        meeting.id, **ids, custom_participant_id=unique("sp"), preset_name="host", name="Lin"
    ).data
    peer = ws_join(p)
    s = cf.realtime_kit.sessions
    with pytest.raises(cloudflare.NotFoundError) as e:
        s.get_session_transcripts(peer.session_id, **ids)
    assert_api_error(e, 404, "No transcript")
    speak(peer, "The launch moves to Thursday.")
    speak(peer, "Docs are ready, launch checklist next.")

    got = s.get_session_transcripts(peer.session_id, **ids)
    assert got.success is True and got.data.session_id == peer.session_id
    assert as_datetime(got.data.transcript_download_url_expiry)
    rows = list(csv.DictReader(io.StringIO(httpx.get(got.data.transcript_download_url).text)))
    assert [r["text"] for r in rows] == ["The launch moves to Thursday.", "Docs are ready, launch checklist next."]
    assert {r["speaker"] for r in rows} == {"Lin"} and rows[0]["peer_id"] == peer.peer_id

    # 5.0.0 has no `format` parameter: it goes as an extra query parameter there.
    def as_format(fmt: str) -> dict:
        return {"format": fmt} if sdk_has("sessions.get_session_transcripts", "format") else {"extra_query": {"format": fmt}}

    for fmt, head in [("SRT", "1\n00:00:"), ("VTT", "WEBVTT\n\n1\n00:00:")]:
        link = s.get_session_transcripts(peer.session_id, **ids, **as_format(fmt)).data.transcript_download_url
        body = httpx.get(link).text
        assert body.startswith(head), body
        assert "The launch moves to Thursday." in body
    doc = httpx.get(s.get_session_transcripts(peer.session_id, **ids, **as_format("JSON")).data.transcript_download_url).json()
    assert [x["text"] for x in doc["segments"]][0] == "The launch moves to Thursday."

    with pytest.raises(cloudflare.NotFoundError) as e:
        s.get_session_summary(peer.session_id, **ids)
    assert_api_error(e, 404, "No summary")
    job = s.generate_summary_of_transcripts(peer.session_id, **ids)
    if job is not None:  # 5.0.0 models no answer
        assert job.success is True and job.data.status == "COMPLETED"
    summary = s.get_session_summary(peer.session_id, **ids)
    assert summary.success is True and summary.data.session_id == peer.session_id
    md = httpx.get(summary.data.summary_download_url)
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert "- Lin:" in md.text and "launch" in md.text


def test_summary_needs_a_transcript(cf, ids, app, preset, meeting, ws_join):
    p = cf.realtime_kit.meetings.add_participant(
        meeting.id, **ids, custom_participant_id=unique("q"), preset_name="host", name="Quiet"
    ).data
    peer = ws_join(p)
    with pytest.raises(cloudflare.ConflictError) as e:
        cf.realtime_kit.sessions.generate_summary_of_transcripts(peer.session_id, **ids)
    assert_api_error(e, 409, "no transcript")
    with pytest.raises(cloudflare.BadRequestError) as e:
        cf.realtime_kit.sessions.get_session_transcripts(peer.session_id, **ids, extra_query={"format": "DOCX"})
    assert_api_error(e, 400, "format")
