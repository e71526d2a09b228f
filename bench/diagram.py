"""How long the projector's tree diagram takes to lay out and render, per live update.

Every change to a session renders the projector's live regions once (for all
its projectors), so the layout (sessions/diagram.py) runs once per change.
This builds trees of 30, 150 and 300 causes in memory (no database: unsaved
Cause objects), eight levels deep with the focus at the bottom, and prints the
median milliseconds of: the anchor, building the tree from its causes
(sessions/tree.py, which every render did before the diagram); the layout;
and rendering the drawing's template. The last line is one JSON object.

    .venv/bin/python bench/diagram.py
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "butwhy.settings")

import django  # noqa: E402

django.setup()

from django.template.loader import render_to_string  # noqa: E402

from sessions import diagram, tree  # noqa: E402
from sessions.models import Cause  # noqa: E402

SOURCE = (
    "the bus stops running at nine so people walk home through the park where there are no "
    "lights and the council says the budget was cut after the factory closed"
)
WORDS = SOURCE.split()


def causes(size: int) -> list[Cause]:
    rnd = random.Random(size)
    made: list[tuple[Cause, int]] = []
    for pk in range(1, size + 1):
        deep = [(c, d) for c, d in made if d < 7]
        parent, depth = (None, -1) if pk <= 6 or not deep else rnd.choice(deep)
        text = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(3, 14)))
        cause = Cause(pk=pk, text=text, parent_id=parent.pk if parent else None, state="visible")
        made.append((cause, depth + 1))
    return [c for c, _ in made]


def median_ms(action, runs: int = 15) -> float:
    action()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2)


def main() -> None:
    figures = {}
    for size in (30, 150, 300):
        listed = causes(size)
        deepest = max(listed, key=lambda c: c.pk if c.parent_id else 0)
        built = tree.build(listed, deepest.pk)

        def layout(b=built):
            return diagram.layout(b.roots, aspect=1.75)

        drawn = layout()
        figures[size] = {
            "tree_build_ms (anchor)": median_ms(lambda c=listed, f=deepest.pk: tree.build(c, f)),
            "layout_ms": median_ms(layout),
            "template_ms": median_ms(
                lambda d=drawn, b=built: render_to_string(
                    "sessions/_diagram.html",
                    {"diagram": d, "outline": diagram.outline(b.roots)},
                )
            ),
            "drawn": drawn.shown,
            "folded": drawn.folded,
        }
        print(f"{size:4} causes: " + ", ".join(f"{k} {v}" for k, v in figures[size].items()))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
