"""Benchmark a room arriving at once: N phones join an open session through the real join flow.

Starts the real app server (`python -m butwhy.server`, production settings,
the limits on) on SQLite or PostgreSQL, creates an open session, and sends N
phones arriving at R per second. Each phone does what a browser does after
scanning the QR code, on its own connections: `GET /join/CODE/`,
`POST /join/CODE/` (with its CSRF token), the phone page, the page's static
files, then its stream until the first snapshot, which it keeps open until
the end. `--one-address` makes every phone come from one client address, the
way a reverse proxy passes it (`TRUSTED_PROXIES=127.0.0.1` and
`X-Forwarded-For`), as a venue's Wi-Fi or a carrier's NAT would.

    .venv/bin/python bench/join.py --phones 1000 --rate 50 --pin
    .venv/bin/python bench/join.py --db postgres --phones 1000 --rate 50 --pin
    .venv/bin/python bench/join.py --phones 300 --rate 30 --one-address --pin

The anchor, in the same run: a second server process with the same settings,
the same middleware and the same server, whose URLconf has one trivial view
(`bench/anchor.py`); the bench sends it plain GETs and reads the CPU they
cost. The ratio of the two is what does not depend on the machine.

The last line printed is one JSON object: joined, refused (by status),
arrival to first snapshot p50/p95/p99/max, server CPU ms per join, the plain
request's CPU ms, and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import live as bench  # bench/live.py: the database, a server's CPU, the HTTP client

REPO = bench.REPO
HOST = bench.HOST
now = time.monotonic
FORWARDED_FOR = "203.0.113.50"  # the one address of --one-address
CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
STATIC = re.compile(rb'(?:href|src)="(/static/[^"]+)"')


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--processes", type=int, default=1, help="server processes (ports)")
    parser.add_argument("--phones", type=int, default=300)
    parser.add_argument("--rate", type=float, default=30.0, help="phones arriving per second")
    parser.add_argument("--one-address", action="store_true", help="all phones behind one address")
    parser.add_argument("--pin", action="store_true", help="server on core 0, clients on core 1")
    parser.add_argument("--port", type=int, default=8910, help="first server port")
    parser.add_argument("--anchor-requests", type=int, default=2000)
    parser.add_argument(
        "--pg-url", default="postgres://postgres@127.0.0.1:5432/butwhy_bench", help="--db postgres"
    )
    parser.add_argument("--sqlite-path", default="/tmp/butwhy-bench-join.sqlite3")
    parser.add_argument("--timeout", type=float, default=60.0, help="per phone, in seconds")
    parser.add_argument("--profile", default="", help="py-spy record the server into this file")
    parser.add_argument("--py-spy", default=os.environ.get("PY_SPY", "py-spy"))
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.processes > 1 and args.db == "sqlite":
        parser.error("several processes need --db postgres")
    args.app_dir = REPO
    args.clients = args.phones
    return args


class Server(bench.Server):
    """`python -m butwhy.server`: the server `make run` and `make serve` start."""

    def __init__(self, args, port: int, env: dict[str, str], settings_module: str):
        super().__init__(args, port, {**env, "DJANGO_SETTINGS_MODULE": settings_module})
        self.log_path = Path(f"/tmp/butwhy-bench-join-{port}.log")

    def start(self) -> None:
        command = [str(bench.PYTHON), "-m", "butwhy.server", "--host", HOST]
        command += ["--port", str(self.port)]
        if self.args.pin:
            command = ["taskset", "-c", "0", *command]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=REPO,
                env={**self.env, "PYTHONPATH": str(REPO / "bench")},
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=bench.raise_nofile,
            )


def create_session() -> tuple[int, str, str]:
    """An open session, anonymous (no name asked): its pk, public id and join code."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connections

    from sessions.models import Group, Membership, Session

    tag = os.urandom(4).hex()
    user = get_user_model().objects.create_user(username=f"bench-join-{tag}")
    group = Group.objects.create(name=f"Bench {tag}")
    Membership.objects.create(group=group, user=user, role=Membership.Role.FACILITATOR)
    session = Session.objects.create(
        group=group,
        title=f"Bench {tag}",
        situation="Young people keep getting hurt at the corner of 5th and Main.",
        created_by=user,
    )
    session.open_for_joining()
    connections.close_all()
    return session.pk, session.public_id, session.join_code


class Phone:
    def __init__(self, port: int, code: str, public_id: str, headers: dict[str, str]):
        self.port = port
        self.code = code
        self.public_id = public_id
        self.headers = headers
        self.cookies: dict[str, str] = {}
        self.stream: asyncio.StreamWriter | None = None

    def cookie_header(self) -> dict[str, str]:
        jar = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {**self.headers, "Cookie": jar} if jar else dict(self.headers)

    def keep(self, headers: dict[str, str]) -> None:
        for line in headers.get("set-cookie", "").split("\n"):
            name, _, rest = line.partition("=")
            if name and rest:
                self.cookies[name.strip()] = rest.split(";", 1)[0]

    async def join(self) -> tuple[int | None, float | None]:
        """The join flow; (the first refusing status or None, seconds to the first snapshot)."""
        started = now()
        http = bench.Http(self.port)
        try:
            status, headers, page = await http.request(
                "GET", f"/join/{self.code}/", self.cookie_header()
            )
            if status != 200:
                return status, None
            self.keep(headers)
            token = CSRF_FIELD.search(page)
            form = f"csrfmiddlewaretoken={token.group(1).decode() if token else ''}".encode()
            headers_out = {
                **self.cookie_header(),
                "Content-Type": "application/x-www-form-urlencoded",
            }
            status, headers, _ = await http.request(
                "POST", f"/join/{self.code}/", headers_out, form
            )
            if status != 302:
                return status, None
            self.keep(headers)
            status, headers, page = await http.request(
                "GET", f"/p/{self.public_id}/", self.cookie_header()
            )
            if status != 200:
                return status, None
            for path in dict.fromkeys(STATIC.findall(page)):
                asset = {**self.cookie_header(), "Accept-Encoding": "gzip"}
                status, _, _ = await http.request("GET", path.decode(), asset)
                if status != 200:
                    return status, None
        finally:
            http.close()
        reader, self.stream = await asyncio.open_connection(HOST, self.port)
        head = [f"GET /p/{self.public_id}/stream/ HTTP/1.1", f"Host: {HOST}:{self.port}"]
        head += [f"{k}: {v}" for k, v in self.cookie_header().items()]
        head.append("Accept: text/event-stream")
        self.stream.write(("\r\n".join(head) + "\r\n\r\n").encode())
        status_line = await reader.readline()
        status = int(status_line.split()[1])
        if status != 200:
            return status, None
        received = b""
        while b"event: snapshot" not in received:
            chunk = await reader.read(65536)
            if not chunk:
                return -1, None  # cut before its snapshot
            received += chunk
        return None, now() - started

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()


async def arrive(args, ports: list[int], code: str, public_id: str) -> dict:
    headers = {"X-Forwarded-For": FORWARDED_FOR} if args.one_address else {}
    phones = [Phone(ports[i % len(ports)], code, public_id, headers) for i in range(args.phones)]
    refused: Counter[str] = Counter()
    delays: list[float] = []

    async def one(i: int, phone: Phone, start: float) -> None:
        await asyncio.sleep(max(0.0, start + i / args.rate - now()))
        try:
            status, seconds = await asyncio.wait_for(phone.join(), args.timeout)
        except (TimeoutError, OSError, bench.HttpError) as error:
            refused[type(error).__name__] += 1
            return
        if status is not None:
            refused[str(status)] += 1
        elif seconds is not None:
            delays.append(seconds)

    start = now()
    await asyncio.gather(*(one(i, phone, start) for i, phone in enumerate(phones)))
    elapsed = now() - start
    for phone in phones:
        phone.close()
    return {"delays": delays, "refused": dict(refused), "elapsed": elapsed}


async def plain_requests(port: int, count: int, connections: int = 10) -> None:
    async def client(n: int) -> None:
        http = bench.Http(port)
        try:
            for _ in range(n):
                status, _, _ = await http.request("GET", "/plain/", {})
                assert status == 200, status
        finally:
            http.close()

    await asyncio.gather(*(client(count // connections) for _ in range(connections)))


async def wait_listening(port: int, timeout: float = 30.0) -> None:
    deadline = now() + timeout
    while True:
        try:
            _reader, writer = await asyncio.open_connection(HOST, port)
            writer.close()
            return
        except OSError:
            if now() > deadline:
                raise
            await asyncio.sleep(0.05)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bench.raise_nofile()
    if args.pin:
        os.sched_setaffinity(0, {1})
    url = bench.database_url(args)
    os.environ.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="butwhy.settings")
    os.environ.setdefault("DEBUG", "0")
    sys.path.insert(0, str(REPO))
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH"}}
    env.update(DATABASE_URL=url, DEBUG="0", ALLOWED_HOSTS=HOST, LOG_LEVEL="WARNING")
    if args.one_address:
        env["TRUSTED_PROXIES"] = "127.0.0.1"
    bench.prepare_database(args, env)
    _pk, public_id, code = create_session()
    from django.conf import settings

    env["SECRET_KEY"] = settings.SECRET_KEY
    servers = [Server(args, args.port + i, env, "butwhy.settings") for i in range(args.processes)]
    anchor = Server(args, args.port + args.processes, env, "anchor")
    for server in [*servers, anchor]:
        server.start()
    profiler = None
    try:

        async def run() -> dict:
            for server in [*servers, anchor]:
                await wait_listening(server.port)
            # Warm both up (imports, templates, first queries), then measure.
            await plain_requests(anchor.port, 100)
            warm = Phone(servers[0].port, code, public_id, {})
            await warm.join()
            warm.close()
            anchor_before = anchor.cpu()
            await plain_requests(anchor.port, args.anchor_requests)
            plain_cpu = (anchor.cpu() - anchor_before) / args.anchor_requests
            if args.profile:  # the arrival only, not the start-up
                nonlocal profiler
                profiler = subprocess.Popen(
                    [
                        *[args.py_spy, "record", "--pid", str(servers[0].pid), "--rate", "100"],
                        *["--gil", "--output", args.profile, "--format", "raw", "--nonblocking"],
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                await asyncio.sleep(1)
            before = sum(s.cpu() for s in servers)
            arrived = await arrive(args, [s.port for s in servers], code, public_id)
            join_cpu = (sum(s.cpu() for s in servers) - before) / max(1, len(arrived["delays"]))
            return {**arrived, "plain_cpu": plain_cpu, "join_cpu": join_cpu}

        measured = asyncio.run(run())
    finally:
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(timeout=30)
        for server in [*servers, anchor]:
            server.stop()
    delays = measured["delays"]
    result = {
        "phones": args.phones,
        "rate": args.rate,
        "db": args.db,
        "processes": args.processes,
        "one_address": args.one_address,
        "joined": len(delays),
        "refused": measured["refused"],
        "arrival_s": round(measured["elapsed"], 1),
        "first_snapshot_p50_ms": bench.ms(bench.percentile(delays, 50)),
        "first_snapshot_p95_ms": bench.ms(bench.percentile(delays, 95)),
        "first_snapshot_p99_ms": bench.ms(bench.percentile(delays, 99)),
        "first_snapshot_max_ms": bench.ms(max(delays) if delays else None),
        "server_cpu_ms_per_join": round(measured["join_cpu"] * 1000, 2),
        "plain_request_cpu_ms": round(measured["plain_cpu"] * 1000, 2),
        "ratio": round(measured["join_cpu"] / measured["plain_cpu"], 1)
        if measured["plain_cpu"]
        else None,
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
        "commit": bench.app_version(REPO),
    }
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
