"""Real participants for the session tests: they join a meeting through rtk's WebSocket gateway,
so the sessions the SDKs read come from the session engine, not from fixtures.

- `JoinedPeer`: the `rtk join` subprocess (rtk's own terminal participant). It prints one JSON
  line per event (the first is `joined`) and leaves cleanly on SIGTERM (`left`, exit 0).
- `WsPeer`: a WebSocket client written here (`websockets`), speaking gateway protocol v2
  directly; it is the one that sends chat, which `rtk join` cannot.
"""

import json
import queue
import signal
import subprocess
import threading
import time
import urllib.parse
from contextlib import ExitStack
from pathlib import Path

from websockets.sync.client import connect

JOIN_TIMEOUT_S = 30.0
EVENT_TIMEOUT_S = 15.0


class JoinedPeer:
    """`rtk join --base-url ORIGIN --token TOKEN`, joined: `peer_id`, `session_id`, `meeting_id`,
    and `peers` (how many others were in the session when it joined)."""

    def __init__(self, binary: Path, origin: str, token: str, env: dict, device: "dict | None" = None):
        args = [str(binary), "join", "--base-url", origin, "--token", token]
        if device is not None:
            args += ["--device", json.dumps(device)]
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        self.events: "list[dict]" = []  # every event read so far, in order
        self._lines: "queue.Queue[dict | None]" = queue.Queue()
        self._stderr: "list[str]" = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=lambda: self._stderr.extend(self.proc.stderr), daemon=True).start()
        joined = self.next_event(JOIN_TIMEOUT_S)
        assert joined is not None and joined["type"] == "joined", f"rtk join did not join: {joined}; {self.stderr}"
        self.joined_at = time.monotonic()  # the server recorded the join before it said so
        self.peer_id: str = joined["peer_id"]
        self.session_id: str = joined["session_id"]
        self.meeting_id: str = joined["meeting_id"]
        self.peers: int = joined["peers_total"]

    def _read(self) -> None:
        for line in self.proc.stdout:
            line = line.strip()
            if line:
                self._lines.put(json.loads(line))
        self._lines.put(None)  # end of output

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)

    def next_event(self, timeout: float = EVENT_TIMEOUT_S) -> "dict | None":
        """The next event line, or None once the process has closed its output."""
        try:
            ev = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"rtk join printed nothing for {timeout}s; events so far: {self.events}") from None
        if ev is not None:
            self.events.append(ev)
        return ev

    def wait_for(self, type_: str, timeout: float = EVENT_TIMEOUT_S) -> dict:
        """Reads events until one of `type_` (earlier ones stay in `events`)."""
        deadline = time.monotonic() + timeout
        while True:
            ev = self.next_event(max(0.01, deadline - time.monotonic()))
            assert ev is not None, f"rtk join ended before a {type_!r} event: {self.events}; {self.stderr}"
            if ev["type"] == type_:
                return ev

    def leave(self) -> float:
        """SIGTERM: `rtk join` leaves cleanly. Returns the monotonic time once it has left."""
        # `rtk join` handles SIGTERM from before it prints `joined`: no wait is needed.
        self.proc.send_signal(signal.SIGTERM)
        self.wait_for("left")
        assert self.proc.wait(timeout=EVENT_TIMEOUT_S) == 0, self.stderr
        return time.monotonic()

    def wait_closed(self, timeout: float = EVENT_TIMEOUT_S) -> dict:
        """Waits until the server closes the connection (kick, kick-all): the `closed` event;
        `rtk join` then exits 2."""
        closed = self.wait_for("closed", timeout)
        assert self.proc.wait(timeout=timeout) == 2, self.stderr
        return closed

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class WsPeer:
    """A participant on a plain WebSocket (gateway protocol v2): hello, join, chat, leave."""

    def __init__(self, origin: str, token: str, device: "dict | None" = None):
        url = origin.replace("http://", "ws://", 1) + "/gateway/v1?" + urllib.parse.urlencode({"token": token})
        self._stack = ExitStack()  # websockets wants its connection used as a context manager
        self.ws = self._stack.enter_context(connect(url, open_timeout=JOIN_TIMEOUT_S))
        self.events: "list[dict]" = []
        hello = self.recv()
        assert hello["type"] == "hello" and hello["protocol"] == 2, hello
        self.participant_id: str = hello["participant_id"]
        join = {"type": "join"}
        if device is not None:
            join["device"] = device
        self.ws.send(json.dumps(join))
        joined = self.wait_for("joined")
        self.peer_id: str = joined["peer_id"]
        self.session_id: str = joined["session_id"]
        self.peers: "list[dict]" = joined["peers"]

    def recv(self, timeout: float = EVENT_TIMEOUT_S) -> dict:
        ev = json.loads(self.ws.recv(timeout=timeout))
        self.events.append(ev)
        return ev

    def wait_for(self, type_: str, timeout: float = EVENT_TIMEOUT_S) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            ev = self.recv(max(0.01, deadline - time.monotonic()))
            assert ev["type"] != "error", ev
            if ev["type"] == type_:
                return ev

    def chat(self, message: str) -> dict:
        """Sends a chat message; returns the server's broadcast of it (the sender gets it too)."""
        self.ws.send(json.dumps({"type": "chat", "message": message}))
        ev = self.wait_for("chat")
        assert ev["message"] == message and ev["peer_id"] == self.peer_id, ev
        return ev

    def leave(self) -> None:
        self.ws.send(json.dumps({"type": "leave"}))
        self.wait_for("left")
        self.stop()

    def stop(self) -> None:
        self._stack.close()
