"""A loopback HTTP server that speaks the Hugging Face Hub's file API, as huggingface_hub reads it.

What `get_hf_file_metadata` and `http_get` see from the real Hub, read from huggingface_hub's source:
- `HEAD /{repo}/resolve/{revision}/{file}` answers an LFS file with 302 to a CDN host, carrying
  `X-Repo-Commit`, `X-Linked-Etag` (the file's sha256, quoted) and `X-Linked-Size`; the client does not follow
  a redirect to another host, it takes the metadata from that response. The CDN here is the same server under
  another name (`localhost` against the Hub's `127.0.0.1`), so it is a different origin, as on the real Hub.
- a renamed repo answers 307 with a relative Location on the same host, which the client follows;
- a missing file answers 404 with `X-Error-Code: EntryNotFound`, a missing repo with `RepoNotFound`;
- `GET /cdn/{sha256}` serves the bytes, honouring `Range: bytes=N-` with 206 and Content-Range.
Faults: `cut_after` bytes on the next `cuts` GETs (the connection is closed mid-body), `corrupt` files (served
bytes differ from the advertised sha256).
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

COMMIT = "a" * 40


@dataclass
class FakeHub:
    files: dict[tuple[str, str], bytes] = field(default_factory=dict)  # (repo, path) -> content
    renamed: dict[str, str] = field(default_factory=dict)  # old repo -> new repo
    corrupt: set[str] = field(default_factory=set)  # paths served with flipped bytes
    cut_after: int | None = None
    cuts: int = 0
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)  # (method, path, Range)
    _httpd: ThreadingHTTPServer | None = None

    def add(self, repo: str, path: str, content: bytes) -> str:
        self.files[(repo, path)] = content
        return hashlib.sha256(content).hexdigest()

    @property
    def port(self) -> int:
        assert self._httpd is not None
        return self._httpd.server_address[1]

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def gets(self) -> list[tuple[str, str, str | None]]:
        return [r for r in self.requests if r[0] == "GET"]

    def by_sha(self, sha: str) -> tuple[str, bytes] | None:
        for (_repo, path), content in self.files.items():
            if hashlib.sha256(content).hexdigest() == sha:
                return path, content
        return None

    def __enter__(self) -> FakeHub:
        hub = self

        class Handler(_Handler):
            fake = hub

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()


_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)$")


class _Handler(BaseHTTPRequestHandler):
    fake: FakeHub
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _empty(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _resolve(self) -> None:
        m = _RESOLVE.match(self.path.split("?")[0])
        if not m:
            self._empty(404, {"X-Error-Code": "RepoNotFound"})
            return
        repo, rev, path = m["repo"], m["rev"], m["path"]
        if repo in self.fake.renamed:
            self._empty(307, {"Location": f"/{self.fake.renamed[repo]}/resolve/{rev}/{path}"})
            return
        if not any(r == repo for r, _ in self.fake.files):
            self._empty(401, {"X-Error-Code": "RepoNotFound", "X-Error-Message": "Repository not found"})
            return
        if rev not in ("main", COMMIT):
            self._empty(404, {"X-Error-Code": "RevisionNotFound", "X-Repo-Commit": COMMIT})
            return
        content = self.fake.files.get((repo, path))
        if content is None:
            self._empty(404, {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": COMMIT})
            return
        sha = hashlib.sha256(content).hexdigest()
        host = self.headers.get("Host", "").split(":")[-1]
        self._empty(
            302,
            {
                "Location": f"http://localhost:{host}/cdn/{sha}",
                "X-Repo-Commit": COMMIT,
                "X-Linked-Etag": f'"{sha}"',
                "X-Linked-Size": str(len(content)),
                "ETag": '"0123456789abcdef0123456789abcdef01234567"',  # the git blob oid, as the Hub sends
            },
        )

    def do_HEAD(self) -> None:
        self.fake.requests.append(("HEAD", self.path, None))
        self._resolve()

    def do_GET(self) -> None:
        rng = self.headers.get("Range")
        self.fake.requests.append(("GET", self.path, rng))
        if not self.path.startswith("/cdn/"):
            self._resolve()
            return
        found = self.fake.by_sha(self.path.removeprefix("/cdn/"))
        if found is None:
            self._empty(404, {})
            return
        path, content = found
        if path in self.fake.corrupt:
            content = bytes(b ^ 0xFF for b in content[:64]) + content[64:]
        start = 0
        if rng:
            m = re.match(r"bytes=(\d+)-", rng)
            start = int(m.group(1)) if m else 0
        body = content[start:]
        self.send_response(206 if rng else 200)
        if rng:
            self.send_header("Content-Range", f"bytes {start}-{len(content) - 1}/{len(content)}")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        if self.fake.cut_after is not None and self.fake.cuts > 0:
            self.fake.cuts -= 1
            self.wfile.write(body[: self.fake.cut_after])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(body)
