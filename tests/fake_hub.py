"""A small stand-in for the HuggingFace Hub on 127.0.0.1, for the import-by-name tests (no network).

It answers the two requests huggingface_hub makes for a file (HEAD then GET on
``/{org}/{name}/resolve/{revision}/{file}``, with the ``ETag`` / ``X-Repo-Commit`` headers it expects) and
HTTP range requests for safetensors headers; a repository can be gated (401 + ``X-Error-Code: GatedRepo``),
missing (404 + ``RepoNotFound``) or slow (it sleeps before answering). Error codes as huggingface_hub
reads them (huggingface_hub/utils/_http.py ``hf_raise_for_status``).
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COMMIT = "0123456789abcdef0123456789abcdef01234567"
PATH = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<revision>[^/]+)/(?P<file>.+)$")


def safetensors_bytes(tensors: dict[str, tuple[str, list[int], int]]) -> bytes:
    """A safetensors file with zeroed data: name -> (dtype, shape, bytes)."""
    header, offset = {}, 0
    for name, (dtype, shape, size) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + bytes(offset)


class FakeHub:
    """repos: repo id -> {file name: bytes}; gated / missing: repo ids; slow: seconds before each answer."""

    def __init__(self) -> None:
        self.repos: dict[str, dict[str, bytes]] = {}
        self.gated: set[str] = set()
        self.slow: dict[str, float] = {}
        self.requests: list[tuple[str, str, str | None]] = []  # (method, path, range)
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _answer(self, body: bool) -> None:
                hub.requests.append((self.command, self.path, self.headers.get("Range")))
                match = PATH.match(self.path.split("?")[0])
                if not match:
                    return self._error(404, "RepoNotFound", body)
                repo, file = match["repo"], match["file"]
                if repo in hub.slow:
                    time.sleep(hub.slow[repo])
                if repo in hub.gated:
                    return self._error(401, "GatedRepo", body)
                if repo not in hub.repos:
                    return self._error(404, "RepoNotFound", body)
                if file not in hub.repos[repo]:
                    return self._error(404, "EntryNotFound", body)
                data = hub.repos[repo][file]
                status, payload = 200, data
                wanted = re.match(r"bytes=(\d+)-(\d+)", self.headers.get("Range") or "")
                if wanted:
                    start, end = int(wanted[1]), min(int(wanted[2]), len(data) - 1)
                    status, payload = 206, data[start:end + 1]
                self.send_response(status)
                self.send_header("ETag", '"' + hashlib.sha256(data).hexdigest() + '"')
                self.send_header("X-Repo-Commit", COMMIT)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if body:
                    self.wfile.write(payload)

            def _error(self, status: int, code: str, body: bool) -> None:
                self.send_response(status)
                self.send_header("X-Error-Code", code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_HEAD(self) -> None:  # noqa: N802 (http.server's naming)
                self._answer(body=False)

            def do_GET(self) -> None:  # noqa: N802
                self._answer(body=True)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeHub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
