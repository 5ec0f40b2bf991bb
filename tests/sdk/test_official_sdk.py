"""Meta's official Python Business SDK (`facebook_business`) as a client of the emulator.

Goes through what an integrator does on this surface with Meta's own SDK: list businesses
and system users, create an employee and an admin system user, install the app, assign an
ad account and a Page with tasks, read the assigned users, mint a token on the
business-level edge, `debug_token` it, a batch, paging with a small `limit`, revoke.
Every call must succeed: the emulator answers in the shapes Meta's SDK expects.

Run by `.ci/run` (which installs the SDK from PyPI into a venv under target/). The emulator
is `examples/graph_emulator` (its printed `export META_*` lines give its URL and
credentials); set EMULATOR_BIN to a built binary, or it is started with `cargo run`.
"""

import json
import os
import signal
import subprocess
import sys

import pytest

from facebook_business.api import FacebookAdsApi, FacebookRequest
from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.adobjects.business import Business
from facebook_business.adobjects.page import Page
from facebook_business.adobjects.user import User
from facebook_business.exceptions import FacebookRequestError
from facebook_business.session import FacebookSession

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
VERSION = "v26.0"


@pytest.fixture(scope="module")
def env():
    """Starts the emulator (a process of this test, stopped at the end) and points the SDK at it."""
    binary = os.environ.get("EMULATOR_BIN")
    cmd = [binary] if binary else ["cargo", "run", "--quiet", "--example", "graph_emulator"]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
        start_new_session=True,
    )
    found = {}
    try:
        for line in proc.stdout:
            if line.startswith("export "):
                key, _, value = line[len("export "):].strip().partition("=")
                found[key] = value
            if "META_ACCESS_TIER" in found:
                break
        assert "META_GRAPH_URL" in found, f"the emulator printed no URL (exit {proc.poll()})"
        # The SDK builds every URL from this class attribute (session.py).
        FacebookSession.GRAPH = found["META_GRAPH_URL"]
        api = FacebookAdsApi.init(
            app_id=found["META_APP_ID"],
            app_secret=found["META_APP_SECRET"],
            access_token=found["META_ACCESS_TOKEN"],
            api_version=VERSION,
        )
        found["api"] = api
        yield found
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


STATE = {}


def test_list_businesses(env):
    ids = [b["id"] for b in User(fbid="me").get_businesses(fields=["id", "name"])]
    assert env["META_BUSINESS_ID"] in ids


def test_list_system_users(env):
    users = list(Business(env["META_BUSINESS_ID"]).get_system_users(fields=["id", "name", "role"]))
    assert all("id" in u for u in users)
    STATE["before"] = len(users)


def test_create_an_employee_and_an_admin(env):
    business = Business(env["META_BUSINESS_ID"])
    employee = business.create_system_user(params={"name": "sdk-employee", "role": "EMPLOYEE"})
    admin = business.create_system_user(params={"name": "sdk-admin", "role": "ADMIN"})
    assert employee["id"] and admin["id"] and employee["id"] != admin["id"]
    STATE["employee"], STATE["admin"] = employee["id"], admin["id"]
    listed = {u["id"]: u for u in business.get_system_users(fields=["id", "name", "role"])}
    assert listed[employee["id"]]["role"] == "EMPLOYEE"
    assert listed[admin["id"]]["role"] == "ADMIN"


def test_install_the_app(env):
    # The SDK's own call; with a bare `true` it raised TypeError in FacebookResponse.is_success.
    User(fbid=STATE["employee"]).create_application(params={"business_app": env["META_APP_ID"]})
    # The same through the SDK's transport, to see the answer itself.
    raw = env["api"].call("POST", (STATE["employee"], "applications"),
                          params={"business_app": env["META_APP_ID"]})
    assert raw.is_success() and raw.json() == {"success": True}


def test_assign_an_ad_account_and_a_page_with_tasks(env):
    business = Business(env["META_BUSINESS_ID"])
    accounts = [a["id"] for a in business.get_owned_ad_accounts(fields=["id", "name"])]
    pages = [p["id"] for p in business.get_owned_pages(fields=["id", "name"])]
    assert accounts and pages
    STATE["account"], STATE["page"] = accounts[0], pages[0]
    AdAccount(accounts[0]).create_assigned_user(
        params={"user": STATE["employee"], "tasks": ["MANAGE", "ADVERTISE"]})
    Page(pages[0]).create_assigned_user(
        params={"user": STATE["employee"], "tasks": ["ANALYZE"]})


def test_read_assigned_users(env):
    assigned = {
        u["id"]: u for u in AdAccount(STATE["account"]).get_assigned_users(
            fields=["id", "name", "tasks"], params={"business": env["META_BUSINESS_ID"]})
    }
    assert sorted(assigned[STATE["employee"]]["tasks"]) == ["ADVERTISE", "MANAGE"]
    on_page = {
        u["id"]: u for u in Page(STATE["page"]).get_assigned_users(
            fields=["id", "tasks"], params={"business": env["META_BUSINESS_ID"]})
    }
    assert on_page[STATE["employee"]]["tasks"] == ["ANALYZE"]


def test_a_person_listed_by_business_users_is_assignable(env):
    people = list(Business(env["META_BUSINESS_ID"]).get_business_users(fields=["id", "role"]))
    assert people
    AdAccount(STATE["account"]).create_assigned_user(
        params={"user": people[0]["id"], "tasks": ["ANALYZE"]})


def test_mint_a_token_on_the_business_edge(env):
    minted = Business(env["META_BUSINESS_ID"]).create_system_user_access_token(
        params={"system_user_id": STATE["employee"], "scope": ["ads_read", "business_management"]})
    assert minted["access_token"]
    STATE["token"] = minted["access_token"]


def test_debug_token(env):
    answer = env["api"].call("GET", ("debug_token",), params={"input_token": STATE["token"]})
    data = answer.json()["data"]
    assert data["is_valid"] is True
    assert data["app_id"] == env["META_APP_ID"]
    assert str(data["user_id"]) == STATE["employee"]
    assert set(data["scopes"]) >= {"ads_read", "business_management"}


def test_a_batch(env):
    api = env["api"]
    batch = api.new_batch()
    answers, failures = [], []
    Business(env["META_BUSINESS_ID"]).api_get(
        fields=["id", "name"], batch=batch,
        success=lambda r: answers.append(r.json()), failure=lambda r: failures.append(r))
    AdAccount(STATE["account"]).api_get(
        fields=["id", "name"], batch=batch,
        success=lambda r: answers.append(r.json()), failure=lambda r: failures.append(r))
    User(fbid=STATE["employee"]).create_application(
        params={"business_app": env["META_APP_ID"]}, batch=batch,
        success=lambda r: answers.append(r.json()), failure=lambda r: failures.append(r))
    assert batch.execute() is None, "every item was answered"
    assert not failures, [f.error() for f in failures]
    assert answers[0]["id"] == env["META_BUSINESS_ID"]
    assert answers[1]["id"] == STATE["account"]
    assert answers[2] == {"success": True}


def test_paging_with_a_small_limit(env):
    cursor = Business(env["META_BUSINESS_ID"]).get_owned_ad_accounts(
        fields=["id"], params={"limit": 1})
    ids = [a["id"] for a in cursor]
    assert len(ids) >= 2 and len(set(ids)) == len(ids), ids
    users = [u["id"] for u in Business(env["META_BUSINESS_ID"]).get_system_users(
        fields=["id"], params={"limit": 1})]
    assert {STATE["employee"], STATE["admin"]} <= set(users)


def test_revoke_the_tokens(env):
    # DELETE /{system_user}/access_tokens answers {"success": true}, as Meta does.
    User(fbid=STATE["employee"]).delete_access_tokens()
    raw = env["api"].call("DELETE", (STATE["employee"], "access_tokens"))
    assert raw.is_success() and raw.json() == {"success": True}
    after = env["api"].call("GET", ("debug_token",), params={"input_token": STATE["token"]})
    assert after.json()["data"]["is_valid"] is False


def test_a_refusal_is_a_graph_error(env):
    # What Meta refuses, the emulator refuses in Meta's envelope, and the SDK reads it.
    with pytest.raises(FacebookRequestError) as refused:
        AdAccount(STATE["account"]).create_assigned_user(
            params={"user": "59999999999", "tasks": ["ANALYZE"]})
    assert refused.value.api_error_code() == 100
