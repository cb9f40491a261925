"""A real HTTP gateway on loopback whose answers a test scripts, to meet the gateway engine
with every way a user's gateway can answer."""

import base64
import fnmatch
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from qrbench.measure.plan import RunOutcome
from tests import run_helpers
from tests.helpers import SMALL_WORLD, write_yaml

# WhatsApp's login QR form: ref, two public keys and the ADV secret (32 bytes each), platform.
WHATSAPP_QR = ",".join(
    ["2@scripted-ref", *(base64.b64encode(bytes([n]) * 32).decode() for n in (1, 2, 3)), "WEB"]
)


def run_profile(tmp_path: Path, yaml: str, runs: int = 1) -> RunOutcome:
    """`runs` sessions of the gateway profile `yaml` (named gw) in the small world, into
    `tmp_path / RESULTS`."""
    small = write_yaml(tmp_path / "small.yaml", SMALL_WORLD)
    outcome, _ = run_helpers.run_profile(tmp_path, yaml, small, runs=runs, name="gw")
    return outcome


class Answer:
    """An answer; `then` runs with the request's body once it is sent (a webhook posted),
    or, with `held_s`, before it is sent, which then waits that long: a gateway that
    answers its start only once its client is up, long after the QR."""

    def __init__(
        self,
        status: int = 200,
        body: Any = None,
        raw: bytes | None = None,
        then: Callable[[bytes], None] | None = None,
        held_s: float = 0.0,
    ) -> None:
        self.status = status
        self.data = raw if raw is not None else json.dumps(body).encode()
        self.then = then
        self.held_s = held_s


class ScriptedGateway:
    """Routes are keyed by method and a pattern the path starts with (`("POST", "start")`,
    `("GET", "api/*/auth/qr")`), the longest that matches; each answers its script in
    turn, the last answer for ever after. Every request is recorded as (method, path,
    headers)."""

    def __init__(self, script: dict[tuple[str, str], list[Answer]]) -> None:
        self.script = {key: list(answers) for key, answers in script.items()}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(handler) -> None:
                length = int(handler.headers.get("Content-Length") or 0)
                sent = handler.rfile.read(length)
                gateway.requests.append((handler.command, handler.path, dict(handler.headers)))
                answers = gateway.route(handler.command, handler.path)
                answer = Answer(404, {"error": "no route"}) if not answers else answers[0]
                if answers and len(answers) > 1:
                    answers.pop(0)
                if answer.then is not None and answer.held_s:
                    answer.then(sent)
                    time.sleep(answer.held_s)
                handler.send_response(answer.status)
                handler.send_header("Content-Length", str(len(answer.data)))
                handler.end_headers()
                handler.wfile.write(answer.data)
                handler.wfile.flush()
                if answer.then is not None and not answer.held_s:
                    answer.then(sent)

            do_GET = do_POST = do_DELETE = _answer

            def log_message(handler, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def route(self, method: str, path: str) -> list[Answer] | None:
        route = path.split("?")[0].strip("/")
        patterns = [
            pattern
            for sent, pattern in self.script
            if sent == method and fnmatch.fnmatchcase(route, pattern + "*")
        ]
        return self.script[(method, max(patterns, key=len))] if patterns else None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def seen(self, method: str, first: str) -> int:
        prefix = f"/{first}"
        return sum(
            1 for sent, path, _ in self.requests if sent == method and path.startswith(prefix)
        )

    def __enter__(self) -> "ScriptedGateway":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
