"""How long the printed summary takes: WeasyPrint on big sessions, in one warm process.

Builds, in a throwaway SQLite database, a session of 200 causes (six levels
deep, with dot votes and tags) and 20 actions (8 agreed), and one of 1,000
causes; renders each summary PDF --runs times after one untimed warm-up, and
prints the median and slowest seconds, the median CPU seconds and the pages.
The last line is one JSON object. Run it after `make test`'s set-up:

    .venv/bin/python bench/pdf.py
    .venv/bin/python bench/pdf.py --runs 5 --out /tmp/pdfs   # also keep the PDFs
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SOURCE = (
    "the bus stops running at nine so people walk home through the park where there are no "
    "lights and the council says the budget was cut after the factory closed and nobody "
    "checks on the young ones because their parents work two jobs and the clinic is far "
    "away and costs money most families do not have this month"
)
WORDS = SOURCE.split()

# How many causes each level of the tree gets, as a share of the session's.
LEVELS = [0.04, 0.12, 0.22, 0.26, 0.22, 0.14]


def sentence(rng: random.Random) -> str:
    """An answer as people write them: mostly short, now and then the full 280 characters."""
    length = rng.choice([6, 8, 10, 12, 16, 24, 45])
    text = " ".join(rng.choice(WORDS) for _ in range(length))
    return (text[0].upper() + text[1:])[:280]


def build(size: int, actions: int, seed: int):
    """A session of `size` causes six levels deep, with votes, tags and actions."""
    from django.db import transaction

    from sessions.models import Action, ActionLink, Cause, Group, Participant, Session, Vote

    rng = random.Random(seed)
    with transaction.atomic():
        group = Group.objects.create(name="Riverside youth group")
        session = Session.objects.create(
            group=group,
            title=f"Safety at the corner ({size} causes)",
            situation="Young people keep getting hurt at the corner of 5th and Main.",
            names=Session.Names.OPTIONAL,
            votes_revealed=True,
        )
        people = Participant.objects.bulk_create(
            Participant(session=session, name=rng.choice(["", "Ana", "Bo", "Chen", "Dede"]))
            for _ in range(30)
        )
        level: list[Cause] = []
        everyone: list[Cause] = []
        counts = [max(1, round(size * share)) for share in LEVELS[:-1]]
        for depth, count in enumerate([*counts, size - sum(counts)]):
            made = Cause.objects.bulk_create(
                Cause(
                    session=session,
                    parent=rng.choice(level) if depth else None,
                    text=sentence(rng),
                    # A few hidden ones, which must not print.
                    state=Cause.State.HIDDEN if rng.random() < 0.04 else Cause.State.VISIBLE,
                    matters_most=rng.random() < 0.12,
                    can_change=rng.choice(["", "", "yes", "no", "unsure"]),
                    who_can_change=rng.choice(["", "", "inside", "outside"]),
                    actor=rng.choice(["", "the city council", "the transit authority"]),
                    smaller_part=rng.random() < 0.1,
                )
                for _ in range(count)
            )
            everyone += made
            level = [c for c in made if c.state == Cause.State.VISIBLE] or level
        visible = [c for c in everyone if c.state == Cause.State.VISIBLE]
        Vote.objects.bulk_create(
            Vote(session=session, participant=person, cause=cause)
            for person in people
            for cause in rng.sample(visible, 3)
        )
        for number in range(actions):
            agreed = number < 8
            action = Action.objects.create(
                session=session,
                text=sentence(rng),
                agreed=agreed,
                plan_order=number + 1 if agreed else None,
                owner=rng.choice(["Ana", "the youth council", "City council"]) if agreed else "",
                owner_outside=agreed and rng.random() < 0.4,
                first_step=sentence(rng) if agreed else "",
                due=date(2025, 12, 1) + timedelta(days=7 * number) if agreed else None,
            )
            ActionLink.objects.bulk_create(
                ActionLink(session=session, action=action, cause=cause)
                for cause in rng.sample(visible, rng.randint(1, 3))
            )
    return Session.objects.select_related("group").get(pk=session.pk)


def measure(session, runs: int, out: Path | None) -> dict:
    from pypdf import PdfReader

    from sessions import pdf

    context = pdf.summary(session)
    pdf.render(context, "A4")  # warm-up: fonts, stylesheets, code paths
    seconds, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        document = pdf.render(pdf.summary(session), "A4")
        seconds.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    if out:
        out.mkdir(parents=True, exist_ok=True)
        (out / f"summary-{len(context['items'])}.pdf").write_bytes(document)
    return {
        "causes": session.causes.count(),
        "visible_causes": len(context["items"]),
        "actions": session.actions.count(),
        "runs": runs,
        "median_s": round(statistics.median(seconds), 3),
        "max_s": round(max(seconds), 3),
        # CPU time of this process: what the render costs when other programs
        # share the cores (wall time then grows, this does not much).
        "cpu_median_s": round(statistics.median(cpu), 3),
        "pages": len(PdfReader(io.BytesIO(document)).pages),
        "kilobytes": round(len(document) / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed renders per session")
    parser.add_argument("--out", type=Path, help="keep the PDFs in this folder")
    args = parser.parse_args()

    workdir = tempfile.TemporaryDirectory(prefix="butwhy-bench-pdf-")
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir.name}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "butwhy.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    results = {}
    for name, size, actions in [("causes_200", 200, 20), ("causes_1000", 1000, 20)]:
        result = measure(build(size, actions, seed=size), args.runs, args.out)
        results[name] = result
        print(
            f"{result['causes']:>5} causes, {result['actions']} actions: "
            f"median {result['median_s']:.2f} s, max {result['max_s']:.2f} s "
            f"(CPU median {result['cpu_median_s']:.2f} s), "
            f"{result['pages']} pages, {result['kilobytes']} KB",
            flush=True,
        )
    results["targets_met"] = (
        results["causes_200"]["median_s"] <= 1.0 and results["causes_1000"]["median_s"] <= 4.0
    )
    print(json.dumps(results))
    workdir.cleanup()


if __name__ == "__main__":
    main()
