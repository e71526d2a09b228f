"""Static files for old phones on poor networks: hashed names, gzip, cached for a year.

`collectstatic` (run by `make run`, `make test` and `make serve`) gives every
file a name with its content's hash (Django's ManifestStaticFilesStorage) and
writes a gzipped copy beside each text file. `StaticFiles` serves them in
front of Django, from the event loop and from memory (read once, at the first
request for one): the gzipped copy to browsers that accept it, and
`Cache-Control: immutable` for a year, since a changed file gets a new name.

Not WhiteNoise: its middleware is synchronous, and a synchronous middleware
makes Django run every view, streams included, through a thread.
"""

import gzip
import mimetypes
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestStaticFilesStorage

from butwhy.asgitypes import Application, Receive, Scope, Send

COMPRESSIBLE = {".css", ".js", ".svg", ".html", ".txt", ".json", ".map", ".ttf", ".otf"}
A_YEAR = 365 * 24 * 60 * 60


class CompressedManifestStorage(ManifestStaticFilesStorage):
    """Hashed names, plus a .gz beside every text file that gzip makes smaller."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.urls: dict[str, str] = {}

    # The stubs give Storage.url a name that may be None, and HashedFilesMixin.url
    # (what this extends) a str: no signature satisfies both.
    def url(self, name: str, force: bool = False) -> str:  # type: ignore[override]
        """The hashed URL, looked up in the manifest once per name: every page asks for a few."""
        if force or settings.DEBUG:
            return super().url(name, force)
        found = self.urls.get(name)
        if found is None:
            found = self.urls[name] = super().url(name)
        return found

    def post_process(
        self, paths: dict[str, Any], dry_run: bool = False, **options: Any
    ) -> Iterator[tuple[str, str, bool] | tuple[str, None, RuntimeError]]:
        yield from super().post_process(paths, dry_run=dry_run, **options)
        if dry_run:
            return
        for name in self.hashed_files.values():
            path = Path(self.path(name))
            if path.suffix in COMPRESSIBLE and path.exists():
                compress(path)


def compress(path: Path) -> None:
    original = path.read_bytes()
    # mtime=0: the same file always gives the same bytes.
    packed = gzip.compress(original, compresslevel=9, mtime=0)
    target = path.with_name(path.name + ".gz")
    if len(packed) < len(original):
        if not target.exists() or target.read_bytes() != packed:
            target.write_bytes(packed)
    elif target.exists():
        target.unlink()


@dataclass(frozen=True)
class Asset:
    """One collected file, as it is sent: headers and bytes, plain and gzipped."""

    headers: list[tuple[bytes, bytes]]
    body: bytes
    packed_headers: list[tuple[bytes, bytes]] | None
    packed: bytes | None


class StaticFiles:
    """ASGI: answer GET and HEAD under STATIC_URL from STATIC_ROOT; pass the rest on.

    Every collected file is read once, at the first request for a static
    file, with the headers it is sent with: after that a request for one is a
    dictionary lookup, with no path to resolve and no file to stat or read.
    Not when the application is built: a process may import it before its
    files are collected (the test suite collects them as it starts). A file
    collected later is served after the next start (which `make run` and
    `make serve` do).
    """

    def __init__(self, application: Application) -> None:
        self.application = application
        self.prefix = settings.STATIC_URL
        self.root = Path(settings.STATIC_ROOT).resolve()
        self._files: dict[str, Asset] | None = None

    @property
    def files(self) -> dict[str, Asset]:
        if self._files is None:
            self._files = self.load()
        return self._files

    def load(self) -> dict[str, Asset]:
        files = {}
        for path in sorted(self.root.rglob("*")) if self.root.is_dir() else []:
            if path.suffix == ".gz" or not path.is_file():
                continue
            if not path.resolve().is_relative_to(self.root):  # a link out of the folder
                continue
            files[path.relative_to(self.root).as_posix()] = self.asset(path)
        return files

    def asset(self, path: Path) -> Asset:
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type in {
            "application/javascript",
            "image/svg+xml",
        }:
            content_type += "; charset=utf-8"
        # A hashed name never changes; an unhashed one (looked up by hand) may.
        hashed = path.name != self.unhashed_name(path.name)
        headers = [
            (b"content-type", content_type.encode()),
            (b"vary", b"Accept-Encoding"),
            (
                b"cache-control",
                f"public, max-age={A_YEAR}, immutable".encode() if hashed else b"no-cache",
            ),
            (b"x-content-type-options", b"nosniff"),
        ]
        body = path.read_bytes()
        gz = path.with_name(path.name + ".gz")
        packed = gz.read_bytes() if gz.is_file() else None
        return Asset(
            headers=[*headers, (b"content-length", str(len(body)).encode())],
            body=body,
            packed_headers=None
            if packed is None
            else [
                *headers,
                (b"content-length", str(len(packed)).encode()),
                (b"content-encoding", b"gzip"),
            ],
            packed=packed,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith(self.prefix):
            return await self.application(scope, receive, send)
        if scope["method"] not in {"GET", "HEAD"}:
            return await respond(send, 405, [(b"allow", b"GET, HEAD")])
        asset = self.files.get(path[len(self.prefix) :])
        if asset is None:
            return await respond(send, 404, [(b"content-type", b"text/plain")], b"Not found")
        headers, body = asset.headers, asset.body
        if asset.packed is not None and asset.packed_headers is not None:
            for name, value in scope.get("headers") or ():
                if name == b"accept-encoding":
                    if b"gzip" in value:
                        headers, body = asset.packed_headers, asset.packed
                    break
        await respond(send, 200, headers, b"" if scope["method"] == "HEAD" else body)

    def find(self, relative: str) -> Path | None:
        """The collected file served for `relative`, if one is."""
        return self.root / relative if relative in self.files else None

    @staticmethod
    def unhashed_name(name: str) -> str:
        """'live.3f2a1b9c0d4e.js' -> 'live.js'."""
        stem, dot, suffix = name.rpartition(".")
        base, _dot, digest = stem.rpartition(".")
        if dot and base and len(digest) == 12 and all(c in "0123456789abcdef" for c in digest):
            return f"{base}.{suffix}"
        return name


async def respond(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes = b""
) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def collected() -> bool:
    """Whether collectstatic has run (the manifest is there)."""
    return os.path.exists(Path(settings.STATIC_ROOT) / "staticfiles.json")
