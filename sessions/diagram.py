"""The tree of causes as a drawing: a box for every cause, a line to its parent.

The projector and the printed summary draw the same diagram, as SVG laid out
here in abstract units (the SVG's viewBox scales it to the screen or the
page). Server-side, so that the PDF (WeasyPrint runs no JavaScript) and the
projector agree, and so that every projector of a session gets one render.

The situation is the trunk, on the left (on the right in a right-to-left
language): text reads across, a projector is wide, and depth grows in columns
that stay readable to eight levels. Each top-level cause owns a horizontal
band whose height follows a rule that depends only on how many top-level
causes there are and which one holds the focus, never on how big the other
branches are: a new answer moves the causes of its own band only. Inside its
band a branch steps its type down, then folds what is far from the question
behind a "+N more" marker, until it fits; nothing is cut off unannounced.

Everything here walks the tree with explicit stacks: a very deep tree cannot
hit Python's recursion limit.
"""

from __future__ import annotations

import functools
import textwrap
import unicodedata
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from sessions.tree import Node

# The drawing's width; its height follows the place it is drawn in.
WIDTH = 1600.0
TRUNK = 26.0  # the trunk's width, at the outer edge
TRUNK_GAP = 34.0  # from the trunk to the first column
GAP_X = 34.0  # between a column's boxes and the next column: room for the lines
GAP_Y = 8.0  # between two boxes one above the other
BAND_GAP = 12.0  # between two bands
PAD = 7.0  # inside a box
LINE = 1.22  # line height, in ems
# A character's advance, in ems, generous for the sans-serif faces we use
# (DejaVu, Noto): the browser tests check that no text leaves its box.
CHAR = 0.6
BOLD_CHAR = 0.66
COLUMN_MAX = 430.0  # a shallow branch keeps lines a person can read at once
GRID_FROM = 5  # answers to the question past which they are set out in a grid
GRID_COLUMN = 330.0  # the narrowest column of that grid
LEVELS = 8  # the levels a band draws, the path to the question aside

# The type steps a band tries, largest first (units of the drawing).
STEPS = (24.0, 21.0, 18.0, 16.0)
FOCUS_STEPS = (28.0, 24.0, 21.0, 18.0, 16.0)
# On paper, read at arm's length, a band may go smaller before it folds: on a
# landscape A4 page 16 units are about 7.5 pt, 12 about 5.5 pt.
PAPER_STEPS = (*STEPS, 14.0, 12.0)
# The cause being asked about is never set smaller than this: about 26 px on
# a 1920x1080 projector with the joining panel open.
FOCUS_TYPE = 36.0
# The share of the height the focused branch gets when there are several.
FOCUS_SHARE = 0.4
# How many causes a revealed vote marks as the group's top choices.
TOP = 3


@dataclass
class Box:
    """A cause and where it is drawn."""

    key: str
    node: Node
    parent: Box | None
    depth: int
    x: float = 0.0
    y: float = 0.0
    w: float = 0.0
    h: float = 0.0
    font: float = 16.0
    lines: tuple[str, ...] = ()
    bold: bool = False
    is_focus: bool = False
    on_path: bool = False  # on the way from the trunk to the focus, the focus included
    # Causes under this one that are not drawn: all its descendants when its
    # branch is folded, or the answers left out of a long list (and theirs).
    more: int = 0
    meta: tuple[str, ...] = ()  # the dots and tags, wrapped
    rtl: bool = False  # the cause's words run right to left
    page_rtl: bool = False  # the page does: its labels, and where every line starts
    top: bool = False
    bar: float = 0.0  # the share of the most dots this cause got, 0..1

    @property
    def meta_font(self) -> float:
        return round(self.font * 0.8, 1)

    @property
    def more_text(self) -> str:
        return ngettext("+%(count)s more", "+%(count)s more", self.more) % {"count": self.more}

    @property
    def pk(self) -> int:
        return self.node.cause.id

    @property
    def classes(self) -> str:
        names = ["box"]
        if self.is_focus:
            names.append("is-focus")
        elif self.on_path:
            names.append("on-path")
        if self.node.cause.matters_most:
            names.append("matters")
        if self.top:
            names.append("is-top")
        if self.more:
            names.append("has-more")
        return " ".join(names)

    @property
    def text_lines(self) -> list[tuple[float, str]]:
        """(baseline, line) for the cause's words."""
        first = self.y + PAD + self.font * 0.92
        return [(round(first + i * self.font * LINE, 1), line) for i, line in enumerate(self.lines)]

    @property
    def text_x(self) -> float:
        """Where every line starts: the page's start edge, whichever way the words run."""
        return round(self.x + self.w - PAD if self.page_rtl else self.x + PAD, 1)

    @property
    def against(self) -> bool:
        """Whether the words run against the page: each line is then isolated
        (FSI…PDI) in its own direction, and still starts at the page's start edge."""
        return self.rtl != self.page_rtl

    @property
    def extra_lines(self) -> list[tuple[float, str, str]]:
        """(baseline, kind, text) for the dots and the "+N more" under the words."""
        y = self.y + PAD + len(self.lines) * self.font * LINE + self.meta_font * 0.92
        extra = []
        for line in self.meta:
            extra.append((round(y, 1), "meta", line))
            y += self.meta_font * LINE
        if self.more:
            extra.append((round(y, 1), "more", self.more_text))
        return extra

    @property
    def bar_box(self) -> tuple[float, float, float, float]:
        """The dots bar along the bottom edge: x, y, width, height."""
        width = max(4.0, (self.w - 2 * PAD) * self.bar)
        x = self.x + self.w - PAD - width if self.page_rtl else self.x + PAD
        return (round(x, 1), round(self.y + self.h - 5.0, 1), round(width, 1), 3.5)


@dataclass
class Link:
    d: str
    parent: str
    child: str
    on_path: bool


@dataclass
class Diagram:
    width: float
    height: float
    boxes: list[Box]
    links: list[Link]
    trunk: tuple[float, float, float, float]
    rtl: bool
    shown: int  # causes drawn
    folded: int  # causes behind a "+N more"

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width:g} {round(self.height, 1):g}"


def is_rtl(text: str) -> bool:
    """Whether `text` starts, in its first strong letter, right to left (like dir=auto)."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in {"R", "AL"}:
            return True
        if kind == "L":
            return False
    return False


@functools.lru_cache(maxsize=8192)
def wrap(text: str, font: float, width: float, bold: bool) -> tuple[str, ...]:
    """Lines of `text` that fit `width` at `font`: words kept whole unless longer than a line."""
    chars = max(4, int((width - 2 * PAD) / (font * (BOLD_CHAR if bold else CHAR))))
    return tuple(textwrap.wrap(" ".join(text.split()), chars, break_long_words=True) or [""])


def descendants(node: Node) -> int:
    count, stack = 0, list(node.children)
    while stack:
        child = stack.pop()
        count += 1
        stack.extend(child.children)
    return count


def walk(roots: list[Node]) -> list[Node]:
    """Every node under `roots`, parents before children, in the tree's order."""
    order, stack = [], list(reversed(roots))
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(reversed(node.children))
    return order


def weight(root: Node) -> int:
    """A branch's claim on the height: its size in coarse steps, so that a new
    answer changes the other branches' places only when it crosses a step."""
    size = 1 + descendants(root)
    return 1 if size <= 2 else 2 if size <= 6 else 3 if size <= 15 else 4


@dataclass
class Band:
    """One top-level cause and everything under it, laid out in its own region."""

    root: Node
    focus: bool  # this band holds the focus, and the focus is marked
    marks: bool  # the focus and its path are marked
    top_pks: dict[int, int]  # the causes with most dots: their rank
    most: int
    revealed: bool
    focus_type: float = FOCUS_TYPE
    steps: tuple[float, ...] | None = None  # the type sizes to try; None: the screen's
    grid: int | None = None  # the cause whose answers are set out in a grid
    # How many causes there are under each cause of the band (counted once).
    under: dict[int, int] = field(default_factory=dict)
    folded: set[int] = field(default_factory=set)  # nodes whose children are folded
    cut: dict[int, int] = field(default_factory=dict)  # parent pk: children kept

    def shown_children(self, node: Node) -> tuple[list[Node], int]:
        """The children drawn, and how many causes are left out under `node` (0: none)."""
        if node.cause.id in self.folded:
            return [], 0
        children = node.children
        keep = self.cut.get(node.cause.id)
        if keep is None or keep >= len(children):
            return children, 0
        # The path to the question is never cut: the others go first, from the end.
        on_path = [c for c in children if c.on_focus_path]
        others = [c for c in children if not c.on_focus_path]
        kept_ids = {c.cause.id for c in on_path} | {
            c.cause.id for c in others[: max(0, keep - len(on_path))]
        }
        kept = [c for c in children if c.cause.id in kept_ids]
        hidden = [c for c in children if c.cause.id not in kept_ids]
        return kept, sum(1 + self.count(c) for c in hidden)

    @functools.cached_property
    def focus_node(self) -> Node | None:
        """The cause being asked about, if it is in this band and marked."""
        if not self.marks:
            return None
        return next((n for n in walk([self.root]) if n.is_focus), None)

    def count(self, node: Node) -> int:
        """The causes under `node` (all levels)."""
        if not self.under:
            for each in reversed(walk([self.root])):
                self.under[each.cause.id] = sum(1 + self.under[c.cause.id] for c in each.children)
        return self.under[node.cause.id]

    def levels(self) -> int:
        deepest, stack = 0, [(self.root, 0)]
        while stack:
            node, level = stack.pop()
            deepest = max(deepest, level)
            shown, _hidden = self.shown_children(node)
            stack.extend((c, level + 1) for c in shown)
        return deepest + 1

    def columns(self, width: float) -> list[float]:
        """Where each level of the band starts, and its width (the last entry: the end).

        Columns share the width evenly, except that the question's own column
        and the one of its answers get more: they hold the largest type.
        """
        levels = self.levels()
        weights = [1.0] * levels
        focus = self.focus_node
        if focus is not None:
            level = focus.depth - self.root.depth
            if level < levels:
                weights[level] = 2.0
            if level + 1 < levels:
                weights[level + 1] = 1.4
        unit = min(COLUMN_MAX, (width - TRUNK_GAP) / sum(weights))
        starts = [TRUNK_GAP]
        for weight in weights:
            starts.append(starts[-1] + unit * weight)
        return starts

    def build(self, font: float, width: float) -> tuple[list[Box], float]:
        """Boxes at `font` in a band `width` wide, placed from y=0; and the height."""
        starts = self.columns(width)

        def box_w(level: int) -> float:
            return starts[level + 1] - starts[level] - GAP_X

        boxes: list[Box] = []
        root_box = self._box(self.root, None, font, box_w(0))
        boxes.append(root_box)
        # Each box's key: the rows of its children's boxes (one box a row,
        # except for the question's answers set out in a grid).
        kids: dict[str, list[list[Box]]] = {}
        xs: dict[str, float] = {}
        stack = [root_box]
        while stack:
            box = stack.pop()
            node = box.node
            shown, _hidden = self.shown_children(node)
            level = box.depth + 1
            if node.cause.id == self.grid and shown:
                room = width - starts[level]
                across = max(1, min(3, int(room / GRID_COLUMN), (len(shown) + 1) // 2))
                cell = room / across
                children = [self._box(c, box, font, cell - GAP_X) for c in shown]
                rows = [children[i : i + across] for i in range(0, len(children), across)]
                for row in rows:
                    for place, child in enumerate(row):
                        xs[child.key] = starts[level] + place * cell
            else:
                children = [self._box(c, box, font, box_w(level)) for c in shown]
                rows = [[c] for c in children]
            kids[box.key] = rows
            boxes.extend(children)
            stack.extend(reversed(children))

        def stacked(rows: list[list[Box]]) -> float:
            return sum(max(span[c.key] for c in row) for row in rows) + GAP_Y * max(
                0, len(rows) - 1
            )

        # Heights of whole subtrees, children before parents.
        span: dict[str, float] = {}
        for box in reversed(boxes):
            span[box.key] = max(box.h, stacked(kids.get(box.key, [])))
        # Place: each subtree from its top; a parent centred on its children.
        tops = {root_box.key: 0.0}
        for box in boxes:
            top = tops[box.key]
            rows = kids.get(box.key, [])
            box.x = xs.get(box.key, starts[box.depth])
            box.y = top + (span[box.key] - box.h) / 2
            y = top + (span[box.key] - stacked(rows)) / 2
            for row in rows:
                for child in row:
                    tops[child.key] = y
                y += max(span[c.key] for c in row) + GAP_Y
        return boxes, span[root_box.key]

    def _box(self, node: Node, parent: Box | None, font: float, width: float) -> Box:
        box = Box(f"cause-{node.cause.id}", node, parent, node.depth - self.root.depth)
        box.is_focus = self.marks and node.is_focus
        box.on_path = self.marks and node.on_focus_path
        box.bold = box.on_path
        box.font = max(font, self.focus_type) if box.is_focus else font
        box.w = width
        box.rtl = is_rtl(node.cause.text)
        box.lines = wrap(node.cause.text, box.font, width, box.bold)
        # Its answers folded away, or some of them: the box says how many.
        box.more = (
            self.count(node) if node.cause.id in self.folded else self.shown_children(node)[1]
        )
        meta = []
        if self.revealed and node.dots:
            meta.append(
                ngettext("● %(counter)s dot", "● %(counter)s dots", node.dots)
                % {"counter": node.dots}
            )
            box.bar = node.dots / self.most if self.most else 0
        if node.cause.id in self.top_pks:
            box.top = True
            meta.append(_("Most dots: #%(rank)s") % {"rank": self.top_pks[node.cause.id]})
        if node.cause.matters_most:
            meta.append(_("★ Matters most"))
        box.meta = wrap(" · ".join(meta), box.meta_font, width, True) if meta else ()
        extra = len(box.meta) + (1 if box.more else 0)
        box.h = 2 * PAD + len(box.lines) * box.font * LINE + extra * box.meta_font * LINE
        if box.bar:
            box.h += 4
        return box

    def fit(self, width: float, height: float) -> tuple[list[Box], float]:
        """The largest type that fits; past the smallest, fold until the band fits `height`."""
        steps = self.steps or (FOCUS_STEPS if self.focus else STEPS)
        # Past eight levels the columns would be too narrow to read: deeper
        # causes fold (the path to the question excepted).
        for node in walk([self.root]):
            deep = node.depth - self.root.depth >= LEVELS - 1
            if deep and node.children and not node.on_focus_path:
                self.folded.add(node.cause.id)
        # Many answers to the question: side by side in a grid, each answer's
        # own answers folded.
        focus = self.focus_node
        if focus is not None and len(focus.children) > GRID_FROM:
            self.grid = focus.cause.id
            self.folded.update(c.cause.id for c in focus.children if c.children)
        for font in steps:
            boxes, used = self.build(font, width)
            if used <= height:
                return boxes, used
        if not self._fold(steps[-1], width, height):
            return self.build(steps[-1], width)
        # Folded: what is left may fit in larger type again.
        for font in steps:
            boxes, used = self.build(font, width)
            if used <= height:
                return boxes, used
        return self.build(steps[-1], width)

    def _fold(self, font: float, width: float, height: float) -> bool:
        """Fold branches far from the question, then cut long lists, until it fits."""
        # The fewest folds, in order, that make it fit: a binary search, as
        # each try lays the whole band out.
        order = [n.cause.id for n in self._foldable()]
        before = set(self.folded)
        low, high = 0, len(order)
        while low < high:
            middle = (low + high) // 2
            self.folded = before | set(order[:middle])
            if self.build(font, width)[1] <= height:
                high = middle
            else:
                low = middle + 1
        self.folded = before | set(order[:low])
        if low < len(order) or self.build(font, width)[1] <= height:
            return True
        while True:
            widest = self._widest()
            if widest is None:
                return False
            parent, kept = widest
            self.cut[parent.cause.id] = kept - 1
            if self.build(font, width)[1] <= height:
                return True

    def _foldable(self) -> list[Node]:
        asked = set()
        for node in walk([self.root]):
            if node.is_focus:
                asked = {n.cause.id for n in walk(node.children)}
        nodes = [n for n in walk([self.root]) if n.children and not n.on_focus_path]
        # What answers the question folds last; far and deep branches first.
        return sorted(nodes, key=lambda n: (n.cause.id in asked, -n.depth, -self.count(n)))

    def _widest(self) -> tuple[Node, int] | None:
        """The longest list of children that can lose one; the question's answers last."""
        best: tuple[bool, int, Node] | None = None
        for node in walk([self.root]):
            shown, _hidden = self.shown_children(node)
            kept = len(shown)
            cuttable = kept - sum(1 for c in shown if c.on_focus_path)
            rank = (not node.is_focus, kept)
            if cuttable > 0 and (best is None or rank > best[:2]):
                best = (rank[0], kept, node)
        return (best[2], best[1]) if best else None


def layout(
    roots: list[Node],
    *,
    aspect: float,
    revealed: bool = False,
    rtl: bool = False,
    focus: bool = True,
    focus_type: float = FOCUS_TYPE,
    steps: tuple[float, ...] | None = None,
) -> Diagram:
    """The diagram of `roots`, for a place `aspect` times wider than high.

    `focus`: whether to give the branch being asked about more room.
    `steps`: the type sizes a band tries before it folds (the screen's by default).
    """
    height = WIDTH / aspect
    every = walk(roots)
    most = max((n.dots for n in every), default=0) if revealed else 0
    ranked = sorted((n for n in every if n.dots), key=lambda n: -n.dots) if revealed else []
    top_pks = {n.cause.id: rank for rank, n in enumerate(ranked[:TOP], start=1)}
    focused = [r for r in roots if r.on_focus_path] if focus else []
    bands = [
        Band(
            r, bool(focused) and r is focused[0], focus, top_pks, most, revealed, focus_type, steps
        )
        for r in roots
    ]
    width = WIDTH - TRUNK
    # Shares: the focused branch gets a fixed part, the others the rest evenly.
    count = len(bands)
    if count == 0:
        return Diagram(WIDTH, height, [], [], (0, 0, TRUNK, height), rtl, 0, 0)
    usable = height - BAND_GAP * (count - 1)
    weights = [weight(band.root) for band in bands]
    if focused and count > 1:
        # The focused branch: half the height, or more by its weight.
        mine = sum(w for w, b in zip(weights, bands, strict=True) if b.focus)
        big = max(usable * FOCUS_SHARE, usable * mine / sum(weights))
        others = sum(weights) - mine
        shares = [
            big if b.focus else (usable - big) * w / others
            for w, b in zip(weights, bands, strict=True)
        ]
    else:
        shares = [usable * w / sum(weights) for w in weights]
    placed: list[tuple[list[Box], float, float]] = []
    y = 0.0
    for band, share in zip(bands, shares, strict=True):
        boxes, used = band.fit(width, share)
        share = max(share, used)
        placed.append((boxes, y + (share - used) / 2, share))
        y += share + BAND_GAP
    total = max(height, y - BAND_GAP)
    if focused and total > height * 1.02 and focus_type == FOCUS_TYPE:
        # Too tall for its place: the drawing will be shown smaller, so the
        # question's cause is drawn larger in proportion, and all placed again.
        grown = FOCUS_TYPE * total / height
        return layout(
            roots,
            aspect=aspect,
            revealed=revealed,
            rtl=rtl,
            focus=focus,
            focus_type=grown,
            steps=steps,
        )
    boxes_all: list[Box] = []
    for boxes, offset, _share in placed:
        for box in boxes:
            box.x += TRUNK
            box.y += offset
            boxes_all.append(box)
    for box in boxes_all:
        box.page_rtl = rtl
        if rtl:
            box.x = WIDTH - box.x - box.w
        box.x, box.y, box.w, box.h = (round(v, 1) for v in (box.x, box.y, box.w, box.h))
    trunk_x = WIDTH - TRUNK if rtl else 0.0
    links = [_link(box, rtl, trunk_x) for box in boxes_all]
    shown = len(boxes_all)
    folded = sum(b.more for b in boxes_all)
    return Diagram(WIDTH, total, boxes_all, links, (trunk_x, 0, TRUNK, total), rtl, shown, folded)


def _link(box: Box, rtl: bool, trunk_x: float) -> Link:
    """A curve from the parent's inner edge (or the trunk) to the box's outer edge."""
    end_y = box.y + box.h / 2
    if box.parent is None:
        start_x = trunk_x if rtl else TRUNK
        start_y = end_y
        parent_key = "trunk"
    else:
        parent = box.parent
        start_x = parent.x if rtl else parent.x + parent.w
        start_y = parent.y + parent.h / 2
        parent_key = parent.key
    on_path = box.on_path
    end_x = box.x + box.w if rtl else box.x
    mid = (start_x + end_x) / 2
    d = (
        f"M{start_x:.1f} {start_y:.1f}C{mid:.1f} {start_y:.1f} {mid:.1f} {end_y:.1f} "
        f"{end_x:.1f} {end_y:.1f}"
    )
    return Link(d, parent_key, box.key, on_path)


@dataclass
class Entry:
    """A cause in the outline under the drawing (an ARIA tree, flat)."""

    node: Node
    parent: int | None
    level: int
    position: int
    siblings: int


def outline(roots: list[Node]) -> list[Entry]:
    """The tree in reading order, with what a screen reader says of each place."""
    entries: list[Entry] = []
    stack: list[tuple[Node, int | None, int, int]] = [
        (n, None, i + 1, len(roots)) for i, n in reversed(list(enumerate(roots)))
    ]
    while stack:
        node, parent, position, siblings = stack.pop()
        entries.append(Entry(node, parent, node.depth + 1, position, siblings))
        count = len(node.children)
        stack.extend(
            (c, node.cause.id, i + 1, count) for i, c in reversed(list(enumerate(node.children)))
        )
    return entries
