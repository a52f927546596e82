"""Shared fixtures: one rtk server per pytest session (SQLite, random port, temp data dir)
and strict clients of the installed `cloudflare` SDK pointed at it.

Resource fixtures (`app`, `preset`, `meeting`, `participant`) create fresh objects per test,
so counts and paging totals are exact. `join` and `ws_join` put real participants into a
meeting's live session through the gateway (`peers.py`).

Every call of a RealtimeKit SDK method is logged per test (`sdk_call` properties in the JUnit
XML that `run.sh` asks for); `../compat.py` turns the passing tests' calls into
docs/compatibility.md.
"""

import inspect
import json
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import cloudflare
import cloudflare.resources.realtime_kit as rk
import pytest
from cloudflare import Cloudflare

import rtkconf
from peers import JoinedPeer, WsPeer
from rtkconf import unique

# The SDKs read credentials and the base URL from these; a developer's real Cloudflare
# credentials must neither leak into requests nor change which auth headers are sent.
for _var in [v for v in os.environ if v.startswith("CLOUDFLARE_")]:
    del os.environ[_var]

REPO = Path(__file__).resolve().parents[3]


def rtk_binary() -> Path:
    if os.environ.get("RTK_BIN"):
        return Path(os.environ["RTK_BIN"])
    target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")
    return target / "debug" / "rtk"


def pytest_report_header(config):
    return f"cloudflare SDK {cloudflare.__version__}; rtk binary {rtk_binary()}"


@dataclass
class Rtk:
    """A running rtk server and the credentials it created on first start."""

    origin: str  # http://127.0.0.1:PORT
    data_dir: Path
    account_id: str
    api_token: str
    api_email: str
    binary: Path
    env: dict

    def cli(self, *args: str) -> str:
        """Runs an `rtk` admin command on the server's data dir; its stdout, stripped."""
        out = subprocess.run(
            [str(self.binary), *args, "--data-dir", str(self.data_dir)],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
            env=self.env,
        )
        return out.stdout.strip()

    def new_account(self, email: str = "admin@rtk.local") -> "tuple[str, str]":
        """A fresh account and an API token for it (with `email` for X-Auth-Email)."""
        account = self.cli("account", "create")
        token = self.cli("token", "create", "--account", account, "--email", email)
        return account, token

    def client(self, *, prefix: bool = True, strict: bool = True, **credentials) -> Cloudflare:
        """An SDK client, strict unless told; `prefix=False` uses the base URL without `/client/v4`."""
        if not credentials:
            credentials = {"api_token": self.api_token}
        base = self.origin + ("/client/v4" if prefix else "")
        return Cloudflare(base_url=base, _strict_response_validation=strict, **credentials)


def _wait_listening(proc: subprocess.Popen, log: Path, timeout: float = 60.0) -> str:
    """The address from the `rtk listening` JSON log line."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            if not line.startswith("{"):
                continue  # the first-start banner is plain text
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            fields = rec.get("fields") or {}
            if fields.get("message") == "rtk listening" and fields.get("addr"):
                return fields["addr"]
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(f"rtk did not start (exit code {proc.poll()}); its log:\n{log.read_text(errors='replace')}")


def _serve(extra: "list[str]"):
    """Runs `rtk serve` with `extra` arguments on a temp data dir; yields its `Rtk`."""
    binary = rtk_binary()
    if not binary.is_file():
        pytest.exit(f"no rtk binary at {binary}: run `cargo build -p rtk-cli` or set RTK_BIN", returncode=3)
    with tempfile.TemporaryDirectory(prefix="rtk-conformance-") as tmp:
        data_dir = Path(tmp) / "data"
        log = Path(tmp) / "rtk.log"
        # RTK_DATABASE_URL, RTK_LISTEN, ... from the caller's environment must not redirect
        # the server or the admin commands away from this temp dir.
        env = {k: v for k, v in os.environ.items() if not k.startswith("RTK_")}
        env["RTK_LOG"] = "info"
        with open(log, "wb") as log_file:
            proc = subprocess.Popen(
                [str(binary), "serve", "--listen", "127.0.0.1:0", "--data-dir", str(data_dir), "--log-format", "json", *extra],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=log_file,
                env=env,
            )
        try:
            addr = _wait_listening(proc, log)
            creds = json.loads((data_dir / "credentials.json").read_text())
            yield Rtk(
                origin=f"http://{addr}",
                data_dir=data_dir,
                account_id=creds["account_id"],
                api_token=creds["api_token"],
                api_email=creds["api_email"],
                binary=binary,
                env=env,
            )
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            _server_log_tail[:] = log.read_text(errors="replace").splitlines()[-60:]


@pytest.fixture(scope="session")
def rtk():
    """The default server; livestreaming on (RTMP on a free loopback port)."""
    yield from _serve(["--rtmp-listen", "127.0.0.1:0"])


MANUAL_ADMIN = "conformance-admin-token"
MANUAL_START = "2026-01-05T09:00:00Z"


@pytest.fixture(scope="session")
def rtk_manual():
    """A second rtk on a manual clock (starting at MANUAL_START; admin token MANUAL_ADMIN),
    for tests that assert exact times and durations."""
    yield from _serve(["--clock", f"manual={MANUAL_START}", "--admin-token", MANUAL_ADMIN])


_server_log_tail: "list[str]" = []


def pytest_terminal_summary(terminalreporter, exitstatus):
    """On failure, the end of the server's log (it lived in the session's temp dir)."""
    if exitstatus != 0 and _server_log_tail:
        terminalreporter.section("rtk server log (last lines)")
        for line in _server_log_tail:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def cf(rtk) -> Cloudflare:
    """The default client: API token, base URL with `/client/v4`."""
    return rtk.client()


@pytest.fixture(scope="session")
def acc(rtk) -> str:
    return rtk.account_id


@pytest.fixture
def app(cf, acc):
    """A fresh app (the SDK's `data.app` model)."""
    return cf.realtime_kit.apps.post(account_id=acc, name=unique("app")).data.app


@pytest.fixture
def ids(acc, app):
    """The `account_id` and `app_id` keyword arguments of calls on `app`."""
    return {"account_id": acc, "app_id": app.id}


@pytest.fixture
def receiver():
    """A webhook receiver on loopback (`hooks.py`), closed after the test."""
    from hooks import Receiver

    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def preset(cf, acc, app):
    """A preset named `host` in `app`, created from this SDK generation's document."""
    doc = rtkconf.preset_document("host")
    return cf.realtime_kit.presets.create(app.id, account_id=acc, **doc).data


@pytest.fixture
def meeting(cf, acc, app):
    return cf.realtime_kit.meetings.create(app.id, account_id=acc, title=unique("meeting")).data


@pytest.fixture
def participant(cf, acc, app, preset, meeting):
    """A participant of `meeting` with preset `host` (the add response: it has the token)."""
    return cf.realtime_kit.meetings.add_participant(
        meeting.id,
        account_id=acc,
        app_id=app.id,
        custom_participant_id=unique("user"),
        preset_name=preset.name,
        name="Ada Lovelace",
        picture="https://example.com/ada.png",
    ).data


# ---------------------------------------------------------------------------------------------
# Real participants


@pytest.fixture
def join(rtk):
    """`join(participant, device=None)`: the participant (an add_participant response, with its
    token) joins its meeting through `rtk join`; every peer still running is stopped after the
    test."""
    started: "list[JoinedPeer]" = []

    def _join(participant, device: "dict | None" = None) -> JoinedPeer:
        peer = JoinedPeer(rtk.binary, rtk.origin, participant.token, rtk.env, device)
        started.append(peer)
        return peer

    yield _join
    for peer in started:
        peer.stop()


@pytest.fixture
def ws_join(rtk):
    """`ws_join(participant, device=None)`: joins over a plain WebSocket (can chat)."""
    opened: "list[WsPeer]" = []

    def _join(participant, device: "dict | None" = None) -> WsPeer:
        peer = WsPeer(rtk.origin, participant.token, device)
        opened.append(peer)
        return peer

    yield _join
    for peer in opened:
        peer.stop()


# ---------------------------------------------------------------------------------------------
# Which SDK methods each test called, for ../compat.py
#
# Each public method of the installed SDK's realtime_kit resources is wrapped. A call is logged
# as `group.method ok` when it returned (through a strict client: its response passed the SDK's
# validation), `group.method lenient` when it returned through a lenient client, and
# `group.method error:STATUS` when the server answered an error status. compat.py counts a
# method as verified by a generation when a test that passed logged it `ok`.

_calls: "list[dict[str, set[str]]]" = []  # the running test's log (a stack of one)


def _log(key: str, outcome: str) -> None:
    if _calls:
        _calls[-1].setdefault(key, set()).add(outcome)


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def _wrap(key: str, fn):
    def logged(self, *args, **kwargs):
        try:
            out = fn(self, *args, **kwargs)
        except cloudflare.APIStatusError as e:
            _log(key, f"error:{e.status_code}")
            raise
        _log(key, "ok" if self._client._strict_response_validation else "lenient")
        return out

    logged.__wrapped__ = fn
    logged.__signature__ = inspect.signature(fn)  # rtkconf.needs reads the signatures
    return logged


def _instrument() -> None:
    for name in dir(rk):
        cls = getattr(rk, name)
        if not (isinstance(cls, type) and name.endswith("Resource")) or name.startswith("Async"):
            continue
        if name in ("RealtimeKitResource",):
            continue
        group = _snake(name[: -len("Resource")])
        for meth, fn in list(vars(cls).items()):
            if meth.startswith("_") or not inspect.isfunction(fn) or hasattr(fn, "__wrapped__"):
                continue
            setattr(cls, meth, _wrap(f"{group}.{meth}", fn))


_instrument()


@pytest.fixture(autouse=True)
def _sdk_call_log(record_property):
    calls: "dict[str, set[str]]" = {}
    _calls.append(calls)
    yield
    _calls.remove(calls)
    for key in sorted(calls):
        for outcome in sorted(calls[key]):
            record_property("sdk_call", f"{key} {outcome}")


@pytest.fixture(scope="session", autouse=True)
def _sdk_version(record_testsuite_property):
    record_testsuite_property("sdk", f"python cloudflare=={cloudflare.__version__}")
