"""Does paper hold up the live channel? Another room's live update and a new
stream, timed while several PDFs of a 1,000-cause session are downloaded.

In one process, as the server runs them (the ASGI application, its event
loop and its threads), on a throwaway SQLite database: a phone's stream of a
small session opens and gets a change, first with nothing else going on (the
anchor), then while `--pdfs` downloads of the big session's summary run at
once through the printer's own pool (`PDF_WORKERS`, `PDF_QUEUE`), and then
the same with the PDFs rendered in the event loop's default executor, the
pool that the live channel's checks and renders use (as before the printer
had its own). Prints seconds; the last line is one JSON object.

    .venv/bin/python bench/pdf_pool.py
    .venv/bin/python bench/pdf_pool.py --pdfs 7 --causes 1000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WAIT = 300  # seconds: a bound on every step, far above what any should take


async def get(app, path: str, cookies: dict[str, str]):
    """Start a GET; return (status, queue of body messages, hang-up)."""
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"cookie", cookie.encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    incoming: asyncio.Queue = asyncio.Queue()
    incoming.put_nowait({"type": "http.request", "body": b"", "more_body": False})
    outgoing: asyncio.Queue = asyncio.Queue()
    task = asyncio.ensure_future(app(scope, incoming.get, outgoing.put))
    start = await asyncio.wait_for(outgoing.get(), WAIT)

    async def hang_up():
        incoming.put_nowait({"type": "http.disconnect"})
        await asyncio.wait_for(task, WAIT)

    return start["status"], outgoing, hang_up


async def snapshot(outgoing: asyncio.Queue) -> str:
    while True:
        message = await asyncio.wait_for(outgoing.get(), WAIT)
        body = message.get("body", b"").decode()
        if body.startswith("id:"):
            return body


async def live_round(app, small, phone: dict[str, str], text: str) -> tuple[float, float]:
    """Seconds to open a new stream (to its first snapshot), and for a change to reach it."""
    from asgiref.sync import sync_to_async

    started = time.perf_counter()
    status, outgoing, hang_up = await get(app, f"/p/{small.public_id}/stream/", phone)
    assert status == 200, status
    await snapshot(outgoing)
    opened = time.perf_counter() - started
    started = time.perf_counter()
    cause = await sync_to_async(small.add_cause)(text, None)
    while f"{cause.pk}" not in await snapshot(outgoing):
        pass
    reached = time.perf_counter() - started
    await hang_up()
    return opened, reached


async def under_paper(app, client, big, small, phone, count: int, text: str) -> dict:
    downloads = [
        asyncio.ensure_future(client.get(f"/s/{big.public_id}/summary.pdf")) for _ in range(count)
    ]
    await asyncio.sleep(1.0)  # let the downloads reach their renders
    opened, reached = await live_round(app, small, phone, text)
    started = time.perf_counter()
    responses = await asyncio.wait_for(asyncio.gather(*downloads), WAIT * count)
    return {
        "stream_open_s": round(opened, 3),
        "live_update_s": round(reached, 3),
        "pdfs_200": sum(r.status_code == 200 for r in responses),
        "pdfs_503": sum(r.status_code == 503 for r in responses),
        "pdfs_left_s": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pdfs", type=int, default=7, help="downloads at once")
    parser.add_argument("--causes", type=int, default=1000, help="causes in the big session")
    args = parser.parse_args()

    workdir = tempfile.TemporaryDirectory(prefix="butwhy-bench-pdf-pool-")
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir.name}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "butwhy.settings")
    os.environ.setdefault("RATE_LIMITS", "false")
    import django

    django.setup()
    from asgiref.sync import async_to_sync
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.http import HttpResponse
    from django.test import AsyncClient

    from bench.pdf import build
    from butwhy.asgi import application
    from sessions import pdf
    from sessions.models import Group, Membership, Participant, Session
    from sessions.permissions import PARTICIPANT_COOKIE

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    big = build(args.causes, 20, seed=args.causes)
    fran = get_user_model().objects.create_user("fran", password="x")
    Membership.objects.create(group=big.group, user=fran, role=Membership.Role.FACILITATOR)
    small = Session.objects.create(
        group=Group.objects.create(name="Hilltop"), title="Elsewhere", situation="Another room."
    )
    small.open_for_joining()
    participant = Participant.join(small)
    name = PARTICIPANT_COOKIE.format(small.public_id)
    signer = HttpResponse()
    signer.set_signed_cookie(name, participant.key)
    phone = {name: signer.cookies[name].value}
    client = AsyncClient()
    client.force_login(fran)
    pdf.render(pdf.summary(big), "A4")  # warm-up: fonts, stylesheets, code paths

    async def run() -> dict:
        results: dict = {"causes": args.causes, "pdfs": args.pdfs}
        results["pool"] = {"PDF_WORKERS": settings.PDF_WORKERS, "PDF_QUEUE": settings.PDF_QUEUE}
        opened, reached = await live_round(application, small, phone, "Anchor: nothing printing")
        results["anchor"] = {"stream_open_s": round(opened, 3), "live_update_s": round(reached, 3)}
        print(f"anchor, nothing printing: stream {opened:.3f} s, update {reached:.3f} s")
        results["printer"] = await under_paper(
            application, client, big, small, phone, args.pdfs, "While the printer prints"
        )
        print(f"{args.pdfs} PDFs, printer's own pool: {results['printer']}")

        async def shared(function, *arguments):
            # As before: the default executor, which the live channel uses too.
            return await asyncio.get_running_loop().run_in_executor(None, function, *arguments)

        pdf.printer.run = shared  # type: ignore[method-assign]
        results["shared_pool"] = await under_paper(
            application, client, big, small, phone, args.pdfs, "While the shared pool prints"
        )
        print(f"{args.pdfs} PDFs, shared default executor: {results['shared_pool']}")
        return results

    results = async_to_sync(run)()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
