"""Apps: `realtime_kit.apps.post` and `.get`."""

import cloudflare
import pytest

from rtkconf import as_datetime, assert_api_error, assert_recent, needs, paging, unique


@pytest.fixture
def fresh(rtk):
    """A client on a new, empty account: app lists and totals there are exact."""
    account, token = rtk.new_account()
    return rtk.client(api_token=token), account


def test_post_returns_the_new_app(cf, acc):
    name = unique("demo")
    resp = cf.realtime_kit.apps.post(account_id=acc, name=name)
    assert resp.success is True
    app = resp.data.app
    assert app.id
    assert app.name == name
    assert_recent(app.created_at)


def test_post_trims_the_name(cf, acc):
    name = unique("spaced")
    app = cf.realtime_kit.apps.post(account_id=acc, name=f"  {name} ").data.app
    assert app.name == name


def test_get_lists_apps_oldest_first_with_totals(fresh):
    client, account = fresh
    empty = client.realtime_kit.apps.get(account_id=account)
    assert empty.success is True
    assert empty.data == []
    assert paging(empty)["total_count"] == 0

    created = [client.realtime_kit.apps.post(account_id=account, name=f"app-{i}").data.app for i in range(3)]
    resp = client.realtime_kit.apps.get(account_id=account)
    assert [a.id for a in resp.data] == [a.id for a in created]
    assert [a.name for a in resp.data] == ["app-0", "app-1", "app-2"]
    for listed, made in zip(resp.data, created):
        assert as_datetime(listed.created_at) == as_datetime(made.created_at)
    assert paging(resp) == {"total_count": 3, "start_offset": 1, "end_offset": 3}


@needs("apps.get", "page_no", "per_page", "sort_order", "search")
def test_get_pages_sorts_and_searches(fresh):
    client, account = fresh
    ids = [client.realtime_kit.apps.post(account_id=account, name=n).data.app.id for n in ["alpha", "beta", "alphabet"]]

    page2 = client.realtime_kit.apps.get(account_id=account, page_no=2, per_page=2)
    assert [a.id for a in page2.data] == ids[2:]
    assert page2.paging.total_count == 3
    assert (page2.paging.start_offset, page2.paging.end_offset) == (3, 3)

    newest = client.realtime_kit.apps.get(account_id=account, sort_order="DESC")
    assert [a.id for a in newest.data] == ids[::-1]

    found = client.realtime_kit.apps.get(account_id=account, search="ALPHA")
    assert sorted(a.name for a in found.data) == ["alpha", "alphabet"]
    assert found.paging.total_count == 2

    by_id = client.realtime_kit.apps.get(account_id=account, search=ids[1])
    assert [a.name for a in by_id.data] == ["beta"]


def test_post_rejects_an_empty_name(cf, acc):
    with pytest.raises(cloudflare.BadRequestError) as e:
        cf.realtime_kit.apps.post(account_id=acc, name="   ")
    assert_api_error(e, 400, '"name" must be 1 to 256 characters')
