"""Webhooks: create_webhook, get_webhooks, get_webhook_by_id, replace_webhook, edit_webhook
(including an empty PATCH), delete_webhook, their errors; and deliveries of real sessions to a
receiver in this process (`hooks.py`), signatures verified with the key from
`/.well-known/webhooks.json`.

The server runs on the real clock: the session that ends by keep-alive uses a 1 s keep-alive
and the test waits for the receiver to get `meeting.ended`.
"""

import re
import uuid

import cloudflare
import httpx
import pytest

from hooks import Receiver, js_roundtrip, verify
from rtkconf import as_datetime, assert_api_error, assert_recent, unique

SESSION_EVENTS = ["meeting.started", "meeting.ended", "meeting.participantJoined", "meeting.participantLeft"]
ALL_EVENTS = SESSION_EVENTS + [
    "meeting.chatSynced",
    "recording.statusUpdate",
    "livestreaming.statusUpdate",
    "meeting.transcript",
    "meeting.summary",
]
ISO_MS_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


@pytest.fixture
def member(cf, acc, app, preset):
    def _add(meeting, name: str):
        return cf.realtime_kit.meetings.add_participant(
            meeting.id, account_id=acc, app_id=app.id, custom_participant_id=unique(name.lower()), preset_name="host", name=name
        ).data

    return _add


@pytest.fixture(scope="session")
def public_key(rtk) -> str:
    r = httpx.get(f"{rtk.origin}/.well-known/webhooks.json")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["success"] is True and doc["message"] == "", doc
    pem = doc["data"]["publicKey"]
    assert pem.startswith("-----BEGIN PUBLIC KEY-----\n") and pem.rstrip().endswith("-----END PUBLIC KEY-----"), pem
    return pem


def assert_webhook(w, *, name, url, events, enabled):
    assert uuid.UUID(w.id)
    assert (w.name, w.url, list(w.events), w.enabled) == (name, url, events, enabled)
    assert_recent(w.created_at)
    assert as_datetime(w.updated_at) >= as_datetime(w.created_at)


def same_webhook(a, b) -> bool:
    """Equal webhooks (each response has its own model class, so compare the data)."""
    return a.to_dict() == b.to_dict()


# ---------------------------------------------------------------------------------------------
# The management API


def test_create_list_get_replace_edit_delete(cf, ids, app):
    hooks = cf.realtime_kit.webhooks
    created = hooks.create_webhook(
        app.id, account_id=ids["account_id"], name="all", url="https://example.com/all", events=ALL_EVENTS
    )
    assert created.success is True
    w = created.data
    assert_webhook(w, name="all", url="https://example.com/all", events=ALL_EVENTS, enabled=True)
    off = hooks.create_webhook(
        app.id, account_id=ids["account_id"], name="off", url="https://example.com/off", events=["meeting.ended"], enabled=False
    ).data
    assert off.enabled is False

    listed = hooks.get_webhooks(app.id, account_id=ids["account_id"])
    assert listed.success is True
    assert [x.id for x in listed.data] == [w.id, off.id]
    assert same_webhook(listed.data[0], w)
    assert same_webhook(hooks.get_webhook_by_id(w.id, **ids).data, w)

    replaced = hooks.replace_webhook(
        off.id, **ids, name="replaced", url="https://example.com/replaced", events=["meeting.started", "meeting.summary"]
    ).data
    assert_webhook(
        replaced, name="replaced", url="https://example.com/replaced", events=["meeting.started", "meeting.summary"], enabled=True
    )
    assert replaced.id == off.id and replaced.created_at == off.created_at

    # An edit with no fields sends {} and changes nothing, not even updated_at.
    same = hooks.edit_webhook(off.id, **ids)
    assert same.success is True and same_webhook(same.data, replaced)
    edited = hooks.edit_webhook(off.id, **ids, enabled=False, events=["meeting.transcript"]).data
    assert (edited.name, edited.url, list(edited.events), edited.enabled) == (
        "replaced",
        "https://example.com/replaced",
        ["meeting.transcript"],
        False,
    )
    assert same_webhook(hooks.get_webhook_by_id(off.id, **ids).data, edited)

    deleted = hooks.delete_webhook(w.id, **ids)
    assert deleted.success is True and same_webhook(deleted.data, w)
    with pytest.raises(cloudflare.NotFoundError) as e:
        hooks.get_webhook_by_id(w.id, **ids)
    assert_api_error(e, 404, w.id)
    assert [x.id for x in hooks.get_webhooks(app.id, account_id=ids["account_id"]).data] == [off.id]


def test_unknown_event_and_bad_url_are_400(cf, ids, app):
    hooks = cf.realtime_kit.webhooks
    with pytest.raises(cloudflare.BadRequestError) as e:
        hooks.create_webhook(
            app.id, account_id=ids["account_id"], name="x", url="https://example.com/x", events=["meeting.started", "meeting.exploded"]
        )
    assert_api_error(e, 400, '"events[1]" is not a webhook event')
    with pytest.raises(cloudflare.BadRequestError) as e:
        hooks.create_webhook(app.id, account_id=ids["account_id"], name="x", url="ftp://example.com/x", events=["meeting.started"])
    assert_api_error(e, 400, "must be an http or https URL")
    w = hooks.create_webhook(app.id, account_id=ids["account_id"], name="x", url="https://example.com/x", events=["meeting.ended"]).data
    with pytest.raises(cloudflare.BadRequestError) as e:
        hooks.edit_webhook(w.id, **ids, events=["recording.started"])
    assert_api_error(e, 400, '"events[0]" is not a webhook event')
    assert same_webhook(hooks.get_webhook_by_id(w.id, **ids).data, w), "a refused edit changes nothing"


def test_duplicate_url_is_409(cf, ids, app, acc):
    client = cf.with_options(max_retries=0)  # 409 is retried by default
    hooks = client.realtime_kit.webhooks
    url = f"https://example.com/{unique('dup')}"
    first = hooks.create_webhook(app.id, account_id=acc, name="a", url=url, events=["meeting.started"]).data
    with pytest.raises(cloudflare.ConflictError) as e:
        hooks.create_webhook(app.id, account_id=acc, name="b", url=url, events=["meeting.ended"])
    assert_api_error(e, 409, "already exists in this app")
    other = hooks.create_webhook(app.id, account_id=acc, name="b", url=url + "/2", events=["meeting.ended"]).data
    with pytest.raises(cloudflare.ConflictError) as e:
        hooks.replace_webhook(other.id, **ids, name="b", url=url, events=["meeting.ended"])
    assert_api_error(e, 409, "already exists in this app")
    # The same URL in another app is fine.
    app2 = cf.realtime_kit.apps.post(account_id=acc, name=unique("app")).data.app
    assert hooks.create_webhook(app2.id, account_id=acc, name="a", url=url, events=["meeting.started"]).data.url == url
    assert same_webhook(hooks.get_webhook_by_id(first.id, **ids).data, first)


# ---------------------------------------------------------------------------------------------
# Deliveries


def check_delivery(d, public_key: str, webhook_id: str):
    """What every delivery must be: signed (both header names), ids, compact stable JSON."""
    assert d.headers["content-type"].startswith("application/json"), d.headers
    assert verify(public_key, d.body, d.headers["rtk-signature"]), "rtk-signature does not verify"
    assert not verify(public_key, d.body + b" ", d.headers["rtk-signature"]), "it verifies other bytes too"
    assert d.headers["dyte-signature"] == d.headers["rtk-signature"]
    assert d.headers["rtk-webhook-id"] == webhook_id == d.headers["dyte-webhook-id"]
    assert uuid.UUID(d.headers["rtk-uuid"]) and d.headers["dyte-uuid"] == d.headers["rtk-uuid"]
    assert js_roundtrip(d.body) == d.body, "JSON.stringify(JSON.parse(body)) !== body"


def test_a_session_delivers_started_joined_left_ended_in_order(cf, ids, app, acc, member, join, receiver, public_key):
    w = cf.realtime_kit.webhooks.create_webhook(app.id, account_id=acc, name="rx", url=receiver.url, events=SESSION_EVENTS).data
    meeting = cf.realtime_kit.meetings.create(app.id, account_id=acc, title="Hooked sync", session_keep_alive_time_in_secs=1).data
    ada, grace = member(meeting, "Ada"), member(meeting, "Grace")
    pa = join(ada)
    pb = join(grace)
    pa.leave()
    pb.leave()
    got = receiver.wait_event("meeting.ended")
    assert [d.event for d in got] == [
        "meeting.started",
        "meeting.participantJoined",
        "meeting.participantJoined",
        "meeting.participantLeft",
        "meeting.participantLeft",
        "meeting.ended",
    ]
    for d in got:
        check_delivery(d, public_key, w.id)
    assert len({d.headers["rtk-uuid"] for d in got}) == 6, "one rtk-uuid per event"
    bodies = [d.json for d in got]
    for b in bodies:
        m = b["meeting"]
        assert (m["id"], m["sessionId"], m["title"], m["roomName"], m["status"]) == (
            meeting.id,
            pa.session_id,
            "Hooked sync",
            meeting.id,
            "LIVE",
        )
        assert m["organizedBy"] == {"id": app.id, "name": app.name}
        assert ISO_MS_Z.match(m["createdAt"]) and ISO_MS_Z.match(m["startedAt"]), m
    people = {ada.custom_participant_id: pa, grace.custom_participant_id: pb}
    joined, left = bodies[1:3], bodies[3:5]
    assert [b["participant"]["peerId"] for b in joined] == [pa.peer_id, pb.peer_id]
    assert [b["participant"]["peerId"] for b in left] == [pa.peer_id, pb.peer_id]
    for b in joined + left:
        p = b["participant"]
        assert people[p["customParticipantId"]].peer_id == p["peerId"]
        assert p["clientSpecificId"] == p["customParticipantId"]
        assert p["userDisplayName"] in ("Ada", "Grace")
    assert all("leftAt" not in b["participant"] for b in joined)
    ended = bodies[5]
    assert ended["reason"] == "ALL_PARTICIPANTS_LEFT"
    # The times and counts are those of the session as the API reports it.
    resp = cf.realtime_kit.sessions.get_session_details(pa.session_id, **ids)
    # 5.0.0 models the session as data.session, 5.9.0 flat under data (rtk sends both).
    s = resp.data.session if "session" in type(resp.data).model_fields else resp.data
    assert s.status == "ENDED"
    assert as_datetime(ended["meeting"]["endedAt"]) == as_datetime(s.ended_at)
    assert as_datetime(ended["meeting"]["startedAt"]) == as_datetime(s.started_at)
    assert as_datetime(ended["meeting"]["endedAt"]) == as_datetime(left[1]["participant"]["leftAt"]), "ended at the last leave"
    assert all("endedAt" not in b["meeting"] for b in bodies[:5])
    assert [b["rtk"]["liveParticipants"] for b in bodies] == [1, 1, 2, 1, 0, 0]
    assert ended["rtk"]["maxConcurrentParticipants"] == s.max_concurrent_participants == 2


def test_kick_all_ends_with_host_ended_meeting(cf, ids, app, acc, meeting, member, join, receiver, public_key):
    w = cf.realtime_kit.webhooks.create_webhook(
        app.id, account_id=acc, name="rx", url=receiver.url, events=["meeting.participantLeft", "meeting.ended"]
    ).data
    peers = [join(member(meeting, "Ada")), join(member(meeting, "Grace"))]
    cf.realtime_kit.active_session.kick_all_participants(meeting.id, **ids)
    for p in peers:
        p.wait_closed()
    got = receiver.wait_event("meeting.ended")
    # Only the subscribed events: no started, no joined.
    assert [d.event for d in got] == ["meeting.participantLeft", "meeting.participantLeft", "meeting.ended"]
    for d in got:
        check_delivery(d, public_key, w.id)
    assert got[2].json["reason"] == "HOST_ENDED_MEETING"
    assert {d.json["participant"]["peerId"] for d in got[:2]} == {p.peer_id for p in peers}


def test_a_5xx_is_retried_with_the_same_rtk_uuid(cf, app, acc, meeting, member, join, public_key):
    rx = Receiver(script=[500, 503])
    try:
        w = cf.realtime_kit.webhooks.create_webhook(app.id, account_id=acc, name="rx", url=rx.url, events=["meeting.started"]).data
        join(member(meeting, "Ada"))
        got = rx.wait_for(3)
        assert [d.status for d in got] == [500, 503, 200]
        assert len({d.headers["rtk-uuid"] for d in got}) == 1, "one event, one rtk-uuid on every attempt"
        assert len({d.body for d in got}) == 1
        for d in got:
            check_delivery(d, public_key, w.id)
    finally:
        rx.close()


def test_a_disabled_or_deleted_webhook_gets_nothing_new(cf, ids, app, acc, member, join, receiver):
    hooks = cf.realtime_kit.webhooks
    off = hooks.create_webhook(app.id, account_id=acc, name="off", url=receiver.url + "/off", events=["meeting.started"], enabled=False).data
    gone = hooks.create_webhook(app.id, account_id=acc, name="gone", url=receiver.url + "/gone", events=["meeting.started"]).data
    hooks.delete_webhook(gone.id, **ids)
    on = hooks.create_webhook(app.id, account_id=acc, name="on", url=receiver.url + "/on", events=["meeting.started"]).data
    m = cf.realtime_kit.meetings.create(app.id, account_id=acc, title="hooked").data
    join(member(m, "Ada"))
    [d] = receiver.wait_for(1)
    assert d.path == "/hook/on" and d.headers["rtk-webhook-id"] == on.id
    # A second session (the first is kicked): still only the enabled webhook, in order.
    cf.realtime_kit.active_session.kick_all_participants(m.id, **ids)
    join(member(m, "Grace"))
    got = receiver.wait_for(2)
    assert [x.path for x in got] == ["/hook/on", "/hook/on"], [x.path for x in got]
    assert got[0].json["meeting"]["sessionId"] != got[1].json["meeting"]["sessionId"]
    assert off.enabled is False
