"""The dashboard in headless Chromium, driven over the DevTools protocol (a WebSocket: the
`websockets` package is all this needs).

A real `rtk serve` on a temp dir; the test signs in with the first start's credentials, opens a
meeting while two `rtk join` peers come and go, and checks that the live count on the page
follows them (the page updates from the session's event stream: the test never reloads it),
then opens the API reference. Every request the page makes must go to rtk itself. Screenshots
of each step are written to --artifacts.

Waiting: the page's DOM is read until a condition holds (with a deadline), since nothing in the
browser signals "the count changed" to a test; every other wait is on an event (a process's
output line, a DevTools reply).
"""

import argparse
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from websockets.sync.client import connect

DEADLINE_S = 20.0


def rtk_serve(binary: str, data: Path) -> "tuple[subprocess.Popen, str]":
    proc = subprocess.Popen(
        [binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", str(data), "--log-format", "json"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("RTK_")},
    )  # fmt: skip
    for line in proc.stderr:
        if line.startswith("{"):
            fields = json.loads(line).get("fields", {})
            if fields.get("message") == "rtk listening":
                return proc, f"http://{fields['addr']}"
    raise SystemExit("rtk did not start")


class Api:
    def __init__(self, origin: str, account: str, token: str):
        self.kit = f"{origin}/client/v4/accounts/{account}/realtime/kit"
        self.token = token

    def post(self, path: str, body: dict) -> dict:
        req = urllib.request.Request(
            self.kit + path, data=json.dumps(body).encode(), method="POST",
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(req) as r:
            return json.loads(r.read())["data"]


class Joined:
    """`rtk join`, once it has printed the protocol's `joined` line."""

    def __init__(self, binary: str, origin: str, token: str):
        self.proc = subprocess.Popen(
            [binary, "join", "--base-url", origin, "--token", token], stdout=subprocess.PIPE, text=True
        )
        first = json.loads(self.proc.stdout.readline())
        assert first["type"] == "joined", first

    def leave(self):
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(timeout=DEADLINE_S) == 0


class RawPeer:
    """A participant on a raw WebSocket, whose connection can be lost without a leave."""

    def __init__(self, origin: str, token: str, resume: "str | None" = None):
        url = origin.replace("http", "ws", 1) + "/gateway/v1?token=" + token
        self._conn = connect(url)
        self.ws = self._conn.__enter__()
        assert json.loads(self.ws.recv(timeout=DEADLINE_S))["type"] == "hello"
        self.ws.send(json.dumps({"type": "resume", "peer_id": resume} if resume else {"type": "join"}))
        want = "resumed" if resume else "joined"
        while True:
            ev = json.loads(self.ws.recv(timeout=DEADLINE_S))
            if ev["type"] == want:
                self.peer_id = ev["peer_id"]
                return
            assert ev["type"] not in ("error", "resume_failed"), ev

    def lose(self):
        """The connection goes away with no close frame (as a network cut would)."""
        self.ws.socket.shutdown(socket.SHUT_RDWR)
        self.ws.socket.close()

    def leave(self):
        self.ws.send(json.dumps({"type": "leave"}))
        while json.loads(self.ws.recv(timeout=DEADLINE_S))["type"] != "left":
            pass
        self.ws.close()


class Browser:
    def __init__(self, profile: Path):
        self.proc = subprocess.Popen(
            ["chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--remote-debugging-port=0", f"--user-data-dir={profile}", "--window-size=1200,1000", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        # Chromium prints the DevTools endpoint when it listens.
        for line in self.proc.stderr:
            if line.startswith("DevTools listening on "):
                port = line.split(":")[-1].split("/")[0]
                break
        else:
            raise SystemExit("chromium did not start")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list") as r:
            page = next(t for t in json.loads(r.read()) if t["type"] == "page")
        self._conn = connect(page["webSocketDebuggerUrl"], max_size=None)
        self.ws = self._conn.__enter__()
        self.next_id = 0
        self.requests: "list[str]" = []
        for m in ("Page.enable", "Runtime.enable", "Network.enable"):
            self.call(m)

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        me = self.next_id
        self.ws.send(json.dumps({"id": me, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=DEADLINE_S))
            if msg.get("method") == "Network.requestWillBeSent":
                self.requests.append(msg["params"]["request"]["url"])
            if msg.get("id") == me:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def eval(self, js: str):
        r = self.call("Runtime.evaluate", expression=js, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"{js}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def until(self, what: str, js: str):
        """Reads `js` in the page until it is truthy."""
        deadline = time.monotonic() + DEADLINE_S
        while True:
            v = self.eval(js)
            if v:
                return v
            if time.monotonic() > deadline:
                text = self.eval("document.getElementById('main')?.innerText")
                raise AssertionError(f"{what}: not within {DEADLINE_S}s; the page shows:\n{text}")
            time.sleep(0.05)

    def screenshot(self, path: Path):
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"]))

    def close(self):
        self._conn.__exit__(None, None, None)
        self.proc.kill()
        self.proc.wait()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--artifacts", type=Path, required=True)
    out = ap.parse_args().artifacts
    binary = os.environ["RTK_BIN"]
    with tempfile.TemporaryDirectory(prefix="rtk-dashboard-") as tmp:
        server, origin = rtk_serve(binary, Path(tmp) / "data")
        browser = None
        peers: "list[Joined]" = []
        try:
            creds = json.loads((Path(tmp) / "data" / "credentials.json").read_text())
            api = Api(origin, creds["account_id"], creds["api_token"])
            app = api.post("/apps", {"name": "dashboard-test"})["app"]["id"]
            preset = json.loads((Path(__file__).resolve().parents[2] / "docs/examples/preset.json").read_text())
            api.post(f"/{app}/presets", preset)
            meeting = api.post(f"/{app}/meetings", {"title": "Browser test"})["id"]
            tokens = [
                api.post(f"/{app}/meetings/{meeting}/participants",
                         {"custom_participant_id": who, "preset_name": "host", "name": who.title()})["token"]
                for who in ("ada", "bob", "cy")
            ]  # fmt: skip

            browser = Browser(Path(tmp) / "chromium")
            browser.call("Page.navigate", url=f"{origin}/#/")
            browser.until("the sign-in form", "!!document.getElementById('sign-in')")
            browser.screenshot(out / "1-sign-in.png")
            browser.eval(
                f"document.getElementById('account').value = {json.dumps(creds['account_id'])};"
                f"document.getElementById('token').value = {json.dumps(creds['api_token'])};"
                "document.getElementById('sign-in').click(); true"
            )
            browser.until("the apps list", "document.getElementById('app-list')?.innerText.includes('dashboard-test')")
            browser.screenshot(out / "2-apps.png")

            peers.append(Joined(binary, origin, tokens[0]))
            browser.eval(f"location.hash = '#/apps/{app}/meetings/{meeting}'; true")
            browser.until("one live participant", "document.getElementById('live-count')?.textContent === '1'")
            assert browser.eval("document.getElementById('session-status').textContent") == "LIVE"
            browser.screenshot(out / "3-live-one.png")
            navigations = browser.eval("performance.getEntriesByType('navigation').length")

            peers.append(Joined(binary, origin, tokens[1]))
            browser.until("two live participants", "document.getElementById('live-count')?.textContent === '2'")
            browser.until("the join in the event log", "document.getElementById('events')?.textContent.includes('peer_joined')")
            browser.screenshot(out / "4-live-two.png")
            peers.pop(0).leave()
            browser.until("back to one", "document.getElementById('live-count')?.textContent === '1'")
            browser.until("the leave in the event log", "document.getElementById('events')?.textContent.includes('peer_left')")
            assert browser.eval("document.getElementById('max-count').textContent") == "2"
            assert browser.eval("document.querySelectorAll('#timeline rect.bar').length") == 2
            browser.screenshot(out / "5-live-one-again.png")

            # A third peer whose connection is lost and comes back: the timeline shows the gap.
            cy = RawPeer(origin, tokens[2])
            browser.until("cy in", "document.getElementById('live-count')?.textContent === '2'")
            cy.lose()
            browser.until("the drop on the timeline", "document.querySelectorAll('#timeline rect.gap:not(.resumed)').length === 1")
            cy = RawPeer(origin, tokens[2], resume=cy.peer_id)
            browser.until("the resume on the timeline", "document.querySelectorAll('#timeline rect.gap.resumed').length === 1")
            browser.until("the drop and resume in the event log", "document.getElementById('events')?.textContent.includes('peer_resumed')")
            browser.screenshot(out / "5b-drop-and-resume.png")
            cy.ws.send(json.dumps({"type": "chat", "message": "hello from cy"}))
            browser.until("the chat in the session's chat", "document.getElementById('chat')?.textContent.includes('hello from cy')")
            cy.leave()
            browser.until("cy gone", "document.getElementById('live-count')?.textContent === '1'")
            assert "hello from cy" in browser.eval("document.getElementById('chat').textContent"), "the chat stays listed"
            assert browser.eval("performance.getEntriesByType('navigation').length") == navigations, "the page was reloaded"

            browser.eval("location.hash = '#/api'; true")
            browser.until("the API reference", "document.getElementById('reference')?.innerText.includes('/sessions/{session_id}')")
            browser.screenshot(out / "6-api-reference.png")

            foreign = [u for u in browser.requests if not (u.startswith(origin) or u.startswith("about:") or u.startswith("data:"))]
            assert not foreign, f"the page asked for something not served by rtk: {foreign}"
            print(f"dashboard: ok ({len(browser.requests)} requests, all to rtk; screenshots in {out})")
            return 0
        finally:
            for p in peers:
                p.proc.kill()
            if browser:
                browser.close()
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
