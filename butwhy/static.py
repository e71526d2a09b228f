"""Static files for old phones on poor networks: hashed names, gzip, cached for a year.

`collectstatic` (run by `make run`, `make test` and `make serve`) gives every
file a name with its content's hash (Django's ManifestStaticFilesStorage) and
writes a gzipped copy beside each text file. `StaticFiles` serves them in front
of Django, from the event loop: the gzipped copy to browsers that accept it,
and `Cache-Control: immutable` for a year, since a changed file gets a new name.

Not WhiteNoise: its middleware is synchronous, and a synchronous middleware
makes Django run every view, streams included, through a thread.
"""

import gzip
import mimetypes
import os
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestStaticFilesStorage

COMPRESSIBLE = {".css", ".js", ".svg", ".html", ".txt", ".json", ".map", ".ttf", ".otf"}
A_YEAR = 365 * 24 * 60 * 60


class CompressedManifestStorage(ManifestStaticFilesStorage):
    """Hashed names, plus a .gz beside every text file that gzip makes smaller."""

    def post_process(self, paths, dry_run=False, **options):
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


class StaticFiles:
    """ASGI: answer GET and HEAD under STATIC_URL from STATIC_ROOT; pass the rest on."""

    def __init__(self, application):
        self.application = application
        self.prefix = settings.STATIC_URL
        self.root = Path(settings.STATIC_ROOT).resolve()

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith(self.prefix):
            return await self.application(scope, receive, send)
        if scope["method"] not in {"GET", "HEAD"}:
            return await respond(send, 405, [(b"allow", b"GET, HEAD")])
        found = self.find(path[len(self.prefix) :])
        if found is None:
            return await respond(send, 404, [(b"content-type", b"text/plain")], b"Not found")
        headers = dict(scope.get("headers") or [])
        accepts_gzip = b"gzip" in headers.get(b"accept-encoding", b"")
        packed = found.with_name(found.name + ".gz")
        send_path = packed if accepts_gzip and packed.exists() else found
        content_type = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type in {
            "application/javascript",
            "image/svg+xml",
        }:
            content_type += "; charset=utf-8"
        # A hashed name never changes; an unhashed one (looked up by hand) may.
        hashed = found.name != self.unhashed_name(found.name)
        response_headers = [
            (b"content-type", content_type.encode()),
            (b"content-length", str(send_path.stat().st_size).encode()),
            (b"vary", b"Accept-Encoding"),
            (
                b"cache-control",
                f"public, max-age={A_YEAR}, immutable".encode() if hashed else b"no-cache",
            ),
            (b"x-content-type-options", b"nosniff"),
        ]
        if send_path is packed:
            response_headers.append((b"content-encoding", b"gzip"))
        body = b"" if scope["method"] == "HEAD" else send_path.read_bytes()
        await respond(send, 200, response_headers, body)

    def find(self, relative: str) -> Path | None:
        """The file under STATIC_ROOT, never outside it; None if there is none."""
        if "\x00" in relative or relative.endswith(".gz"):
            return None
        candidate = (self.root / relative).resolve()
        if not candidate.is_relative_to(self.root) or not candidate.is_file():
            return None
        return candidate

    @staticmethod
    def unhashed_name(name: str) -> str:
        """'live.3f2a1b9c0d4e.js' -> 'live.js'."""
        stem, dot, suffix = name.rpartition(".")
        base, _dot, digest = stem.rpartition(".")
        if dot and base and len(digest) == 12 and all(c in "0123456789abcdef" for c in digest):
            return f"{base}.{suffix}"
        return name


async def respond(send, status: int, headers: list, body: bytes = b"") -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def collected() -> bool:
    """Whether collectstatic has run (the manifest is there)."""
    return os.path.exists(Path(settings.STATIC_ROOT) / "staticfiles.json")
