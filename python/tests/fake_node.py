"""A scripted HTTP server on 127.0.0.1 standing in for a node, for the client's tests."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Reply = tuple[int, dict[str, str], bytes]
Route = Callable[[Request], Reply]


def json_reply(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(value, sort_keys=True).encode()


def error_reply(status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> Reply:
    return json_reply({"error": code, "detail": detail}, status, headers)


@dataclass
class FakeNode:
    """Routes by (method, path with query); each route may be a list of replies served in turn."""

    routes: dict[tuple[str, str], Route | list[Reply] | Reply] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        node = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(self.command, self.path, dict(self.headers.items()), self.rfile.read(length))
                node.requests.append(request)
                route = node.routes.get((self.command, self.path))
                if route is None:
                    status, headers, body = error_reply(404, "not_found", f"no route {self.command} {self.path}")
                elif callable(route):
                    status, headers, body = route(request)
                elif isinstance(route, list):
                    status, headers, body = route.pop(0) if len(route) > 1 else route[0]
                else:
                    status, headers, body = route
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
