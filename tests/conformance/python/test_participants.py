"""Meeting participants: add_participant, get_meeting_participants (list),
get_meeting_participant, edit_participant, delete_meeting_participant and
refresh_participant_token."""

import cloudflare
import pytest

from rtkconf import as_datetime, assert_api_error, assert_recent, jwt_claims, paging, preset_document, unique


def claims_name(claims: dict, *values: str) -> bool:
    return all(v in claims.values() for v in values)


def test_add_participant_returns_it_with_a_token(cf, acc, app, preset, meeting):
    cpid = unique("user")
    resp = cf.realtime_kit.meetings.add_participant(
        meeting.id,
        account_id=acc,
        app_id=app.id,
        custom_participant_id=cpid,
        preset_name="host",
        name="Ada Lovelace",
        picture="https://example.com/ada.png",
    )
    assert resp.success is True
    p = resp.data
    assert p.id
    assert (p.custom_participant_id, p.preset_name, p.name, p.picture) == (
        cpid,
        "host",
        "Ada Lovelace",
        "https://example.com/ada.png",
    )
    created = assert_recent(p.created_at)
    assert p.updated_at == created
    # The token is a JWT for this participant of this meeting.
    assert claims_name(jwt_claims(p.token), p.id, meeting.id)


def test_add_participant_without_name_or_picture(cf, acc, app, preset, meeting):
    p = cf.realtime_kit.meetings.add_participant(
        meeting.id, account_id=acc, app_id=app.id, custom_participant_id="anon", preset_name="host"
    ).data
    assert p.name is None
    assert p.picture is None
    assert p.token


def test_get_meeting_participant_round_trips_without_token(cf, acc, app, meeting, participant):
    resp = cf.realtime_kit.meetings.get_meeting_participant(
        participant.id, account_id=acc, app_id=app.id, meeting_id=meeting.id
    )
    assert resp.success is True
    got = resp.data
    assert "token" not in got.to_dict()
    expected = participant.to_dict()
    del expected["token"]
    assert got.to_dict() == expected


def test_get_meeting_participants_lists_oldest_first_with_paging(cf, acc, app, preset, meeting):
    made = [
        cf.realtime_kit.meetings.add_participant(
            meeting.id, account_id=acc, app_id=app.id, custom_participant_id=f"user-{i}", preset_name="host", name=f"P{i}"
        ).data
        for i in range(3)
    ]
    resp = cf.realtime_kit.meetings.get_meeting_participants(meeting.id, account_id=acc, app_id=app.id)
    assert resp.success is True
    assert [p.id for p in resp.data] == [p.id for p in made]
    assert [(p.custom_participant_id, p.name, p.preset_name) for p in resp.data] == [
        ("user-0", "P0", "host"),
        ("user-1", "P1", "host"),
        ("user-2", "P2", "host"),
    ]
    assert paging(resp) == {"total_count": 3, "start_offset": 1, "end_offset": 3}

    page = cf.realtime_kit.meetings.get_meeting_participants(
        meeting.id, account_id=acc, app_id=app.id, page_no=2, per_page=2
    )
    assert [p.id for p in page.data] == [made[2].id]
    assert paging(page) == {"total_count": 3, "start_offset": 3, "end_offset": 3}


def test_participants_of_other_meetings_are_not_listed(cf, acc, app, preset, meeting, participant):
    other = cf.realtime_kit.meetings.create(app.id, account_id=acc, title="other").data
    resp = cf.realtime_kit.meetings.get_meeting_participants(other.id, account_id=acc, app_id=app.id)
    assert resp.data == []
    assert paging(resp)["total_count"] == 0
    with pytest.raises(cloudflare.NotFoundError):
        cf.realtime_kit.meetings.get_meeting_participant(participant.id, account_id=acc, app_id=app.id, meeting_id=other.id)


def test_edit_participant_changes_given_fields_and_issues_a_token(cf, acc, app, meeting, participant):
    cf.realtime_kit.presets.create(app.id, account_id=acc, **preset_document("viewer", variant=1))
    resp = cf.realtime_kit.meetings.edit_participant(
        participant.id, account_id=acc, app_id=app.id, meeting_id=meeting.id, name="Ada King", preset_name="viewer"
    )
    assert resp.success is True
    e = resp.data
    assert e.id == participant.id
    assert (e.name, e.preset_name) == ("Ada King", "viewer")
    assert e.picture == participant.picture  # not given: kept
    assert e.custom_participant_id == participant.custom_participant_id
    assert e.created_at == participant.created_at
    assert e.updated_at >= participant.updated_at
    assert e.token and e.token != participant.token
    assert claims_name(jwt_claims(e.token), participant.id, "viewer")

    got = cf.realtime_kit.meetings.get_meeting_participant(
        participant.id, account_id=acc, app_id=app.id, meeting_id=meeting.id
    ).data
    assert (got.name, got.preset_name, got.picture) == ("Ada King", "viewer", participant.picture)


def test_edit_participant_clears_picture_with_null(cf, acc, app, meeting, participant):
    e = cf.realtime_kit.meetings.edit_participant(
        participant.id, account_id=acc, app_id=app.id, meeting_id=meeting.id, picture=None
    ).data
    assert e.picture is None
    assert e.name == participant.name


def test_edit_participant_rejects_an_unknown_preset(cf, acc, app, meeting, participant):
    with pytest.raises(cloudflare.BadRequestError) as e:
        cf.realtime_kit.meetings.edit_participant(
            participant.id, account_id=acc, app_id=app.id, meeting_id=meeting.id, preset_name="nope"
        )
    assert_api_error(e, 400, f'No preset named "nope" exists in app {app.id}')


def test_refresh_participant_token_issues_a_new_token(cf, acc, app, meeting, participant):
    resp = cf.realtime_kit.meetings.refresh_participant_token(
        participant.id, account_id=acc, app_id=app.id, meeting_id=meeting.id
    )
    assert resp.success is True
    token = resp.data.token
    assert token != participant.token
    claims = jwt_claims(token)
    assert claims_name(claims, participant.id, meeting.id)
    assert claims["exp"] > claims["iat"]


def test_delete_meeting_participant_returns_it_and_removes_it(cf, acc, app, preset, meeting, participant):
    resp = cf.realtime_kit.meetings.delete_meeting_participant(
        participant.id, account_id=acc, app_id=app.id, meeting_id=meeting.id
    )
    assert resp.success is True
    d = resp.data
    assert d.custom_participant_id == participant.custom_participant_id
    assert d.preset_id == preset.id
    assert as_datetime(d.created_at) == as_datetime(participant.created_at)
    assert as_datetime(d.updated_at) == as_datetime(participant.updated_at)

    kw = dict(account_id=acc, app_id=app.id, meeting_id=meeting.id)
    with pytest.raises(cloudflare.NotFoundError) as e:
        cf.realtime_kit.meetings.get_meeting_participant(participant.id, **kw)
    assert_api_error(e, 404, f"No participant found with id {participant.id}")
    with pytest.raises(cloudflare.NotFoundError):
        cf.realtime_kit.meetings.refresh_participant_token(participant.id, **kw)
    with pytest.raises(cloudflare.NotFoundError):
        cf.realtime_kit.meetings.delete_meeting_participant(participant.id, **kw)
    listed = cf.realtime_kit.meetings.get_meeting_participants(meeting.id, account_id=acc, app_id=app.id)
    assert listed.data == []
    assert paging(listed)["total_count"] == 0


def test_add_participant_rejects_an_unknown_preset(cf, acc, app, preset, meeting):
    with pytest.raises(cloudflare.BadRequestError) as e:
        cf.realtime_kit.meetings.add_participant(
            meeting.id, account_id=acc, app_id=app.id, custom_participant_id="u1", preset_name="nope"
        )
    assert_api_error(e, 400, f'No preset named "nope" exists in app {app.id}')


def test_add_participant_rejects_an_empty_custom_id(cf, acc, app, preset, meeting):
    with pytest.raises(cloudflare.BadRequestError) as e:
        cf.realtime_kit.meetings.add_participant(
            meeting.id, account_id=acc, app_id=app.id, custom_participant_id=" ", preset_name="host"
        )
    assert_api_error(e, 400, '"custom_participant_id" must not be empty')


def test_participants_of_an_unknown_meeting_are_not_found(cf, acc, app, preset):
    missing = unique("no-meeting")
    with pytest.raises(cloudflare.NotFoundError) as e:
        cf.realtime_kit.meetings.add_participant(
            missing, account_id=acc, app_id=app.id, custom_participant_id="u1", preset_name="host"
        )
    assert_api_error(e, 404, f"No meeting found with id {missing}")
    with pytest.raises(cloudflare.NotFoundError):
        cf.realtime_kit.meetings.get_meeting_participants(missing, account_id=acc, app_id=app.id)


def test_unknown_participant_is_not_found(cf, acc, app, meeting):
    missing = unique("no-participant")
    kw = dict(account_id=acc, app_id=app.id, meeting_id=meeting.id)
    with pytest.raises(cloudflare.NotFoundError) as e:
        cf.realtime_kit.meetings.edit_participant(missing, name="x", **kw)
    assert_api_error(e, 404, f"No participant found with id {missing}")
    with pytest.raises(cloudflare.NotFoundError):
        cf.realtime_kit.meetings.refresh_participant_token(missing, **kw)
