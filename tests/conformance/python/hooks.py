"""A webhook receiver for the delivery tests: an `http.server` on loopback in the test process.
It answers each request with the next scripted status (then 200) and keeps every request as
received (headers and the raw body bytes); tests wait on it, never on a fixed sleep.

`verify(public_key_pem, body, signature)` checks `rtk-signature` as a RealtimeKit receiver
would: RSASSA-PKCS1-v1_5 / SHA-256 over the raw body, with the key from
`GET /.well-known/webhooks.json` (`cryptography`).
"""

import base64
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

WAIT_S = 30.0


@dataclass
class Delivery:
    path: str
    headers: "dict[str, str]"  # lower-case names
    body: bytes
    status: int  # what the receiver answered

    @property
    def json(self) -> dict:
        return json.loads(self.body)

    @property
    def event(self) -> str:
        return self.json["event"]


class Receiver:
    def __init__(self, script: "list[int] | None" = None):
        self.script = list(script or [])
        self.got: "list[Delivery]" = []
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with receiver._cond:
                    n = len(receiver.got)
                    status = receiver.script[n] if n < len(receiver.script) else 200
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    receiver.got.append(Delivery(self.path, headers, body, status))
                    receiver._cond.notify_all()
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, n: int, timeout: float = WAIT_S) -> "list[Delivery]":
        """The first `n` requests, once they have all arrived."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.got) < n:
                left = deadline - time.monotonic()
                assert left > 0, f"{len(self.got)} of {n} deliveries in {timeout}s: {[d.event for d in self.got]}"
                self._cond.wait(left)
            return list(self.got[:n])

    def wait_event(self, event: str, timeout: float = WAIT_S) -> "list[Delivery]":
        """Every request up to and including the first of `event`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i, d in enumerate(self.got):
                    if d.event == event:
                        return list(self.got[: i + 1])
                left = deadline - time.monotonic()
                assert left > 0, f"no {event} in {timeout}s: {[d.event for d in self.got]}"
                self._cond.wait(left)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def verify(public_key_pem: str, body: bytes, signature: str) -> bool:
    key = serialization.load_pem_public_key(public_key_pem.encode())
    try:
        key.verify(base64.b64decode(signature, validate=True), body, padding.PKCS1v15(), hashes.SHA256())
        return True
    except InvalidSignature:
        return False


def js_roundtrip(body: bytes) -> bytes:
    """What `JSON.stringify(JSON.parse(body))` gives, for bodies without floats (Python keeps
    key order as JS does for non-integer keys)."""
    return json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False).encode()
