"""How a client reaches rtk: both auth styles the SDK has for RealtimeKit (api_token;
api_email + api_key), base URLs with and without `/client/v4`, and the error classes and
messages of authentication and account failures."""

import cloudflare
import pytest

from rtkconf import assert_api_error, unique

BASES = [pytest.param(True, id="client-v4"), pytest.param(False, id="root")]


@pytest.fixture(params=["api_token", "api_email+api_key"])
def account_and_credentials(request, rtk):
    """A fresh account (so its app list is exact) and credentials in one of the two styles."""
    account, token = rtk.new_account(email="conformance@rtk.local")
    if request.param == "api_token":
        return account, {"api_token": token}
    return account, {"api_email": "conformance@rtk.local", "api_key": token}


@pytest.mark.parametrize("prefix", BASES)
def test_every_auth_style_on_every_base_url(rtk, account_and_credentials, prefix):
    acc, credentials = account_and_credentials
    client = rtk.client(prefix=prefix, **credentials)
    name = unique("via")
    app = client.realtime_kit.apps.post(account_id=acc, name=name).data.app
    assert app.name == name
    assert [a.id for a in client.realtime_kit.apps.get(account_id=acc).data] == [app.id]
    m = client.realtime_kit.meetings.create(app.id, account_id=acc, title=name).data
    got = client.realtime_kit.meetings.get_meeting_by_id(m.id, account_id=acc, app_id=app.id).data
    assert (got.id, got.title) == (m.id, name)


@pytest.mark.parametrize("prefix", BASES)
def test_first_start_credentials_as_email_and_key(rtk, prefix):
    """credentials.json's api_email + api_token work as X-Auth-Email + X-Auth-Key."""
    client = rtk.client(prefix=prefix, api_email=rtk.api_email, api_key=rtk.api_token)
    app = client.realtime_kit.apps.post(account_id=rtk.account_id, name=unique("first")).data.app
    m = client.realtime_kit.meetings.create(app.id, account_id=rtk.account_id, title="t").data
    got = client.realtime_kit.meetings.get_meeting_by_id(m.id, account_id=rtk.account_id, app_id=app.id).data
    assert got.id == m.id


def test_email_and_key_of_a_token_made_with_another_email(rtk):
    account, token = rtk.new_account(email="Ops@Example.com")
    client = rtk.client(api_email="ops@example.com", api_key=token)  # emails compare case-insensitively
    app = client.realtime_kit.apps.post(account_id=account, name="ops").data.app
    assert [a.id for a in client.realtime_kit.apps.get(account_id=account).data] == [app.id]

    wrong = rtk.client(api_email="someone@example.com", api_key=token)
    with pytest.raises(cloudflare.AuthenticationError) as e:
        wrong.realtime_kit.apps.get(account_id=account)
    assert_api_error(e, 401, "invalid X-Auth-Email / X-Auth-Key pair")


@pytest.mark.parametrize("prefix", BASES)
def test_a_bad_token_is_an_authentication_error(rtk, prefix):
    client = rtk.client(prefix=prefix, api_token="rtk_not-a-real-token")
    with pytest.raises(cloudflare.AuthenticationError) as e:
        client.realtime_kit.apps.get(account_id=rtk.account_id)
    assert_api_error(e, 401, "invalid API token")


def test_a_bad_key_is_an_authentication_error(rtk):
    client = rtk.client(api_email=rtk.api_email, api_key="rtk_not-a-real-token")
    with pytest.raises(cloudflare.AuthenticationError) as e:
        client.realtime_kit.apps.post(account_id=rtk.account_id, name="nope")
    assert_api_error(e, 401, "invalid API token")


def test_another_accounts_resources_are_not_found(rtk, cf, acc, app, meeting):
    other_account, other_token = rtk.new_account()
    other = rtk.client(api_token=other_token)
    with pytest.raises(cloudflare.NotFoundError) as e:
        other.realtime_kit.apps.get(account_id=acc)
    assert_api_error(e, 404, f"No account found with id {acc}")
    with pytest.raises(cloudflare.NotFoundError):
        other.realtime_kit.meetings.get_meeting_by_id(meeting.id, account_id=acc, app_id=app.id)
    # Under its own account id, the first account's app does not exist either.
    with pytest.raises(cloudflare.NotFoundError) as e:
        other.realtime_kit.meetings.get_meeting_by_id(meeting.id, account_id=other_account, app_id=app.id)
    assert_api_error(e, 404, f"No app found with id {app.id}")
    assert other.realtime_kit.apps.get(account_id=other_account).data == []


def test_responses_are_json_with_create_and_read_statuses(cf, acc):
    raw = cf.realtime_kit.apps.with_raw_response.post(account_id=acc, name=unique("raw"))
    assert raw.http_response.status_code == 201
    assert raw.headers["content-type"].startswith("application/json")
    app = raw.parse().data.app
    raw = cf.realtime_kit.meetings.with_raw_response.get(app.id, account_id=acc)
    assert raw.http_response.status_code == 200
    assert raw.headers["content-type"].startswith("application/json")
    assert raw.parse().data == []
