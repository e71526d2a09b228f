"""The causes by level, as a drawing: a column for each level, from one person
to laws, money and power, so that a room sees its reasons move from one
person's choices to the conditions around them as the tree goes deeper.

Laid out here in abstract units like the tree (diagram.py): the SVG's viewBox
scales it to its place on the projector, so it always fits. Inside a column
the causes follow the tree's depth (the first answers at the top, the deepest
at the bottom); a column too long for its place sets its type smaller, then
folds its deepest causes behind a "+N more" marker. Nothing is cut off
unannounced.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import ngettext

from sessions.diagram import LINE, PAD, is_rtl, wrap
from sessions.tree import Node, Tree

WIDTH = 1600.0
GAP = 18.0  # between two columns
BOX_GAP = 8.0  # between two boxes of a column
HEAD_FONT = 30.0
COUNT_FONT = 24.0
# The type sizes a drawing tries, largest first; the smallest folds. At 17 units
# a word is still 9 px on a 1280x720 projector beside the joining panel, with
# the projector's largest text.
STEPS = (30.0, 26.0, 22.0, 19.0, 17.0)
# A level's name is set smaller rather than broken inside a word
# ("Servicios e instituciones" in a narrow column).
NAME_STEPS = (30.0, 27.0, 24.0, 21.0)


@dataclass
class LevelBox:
    node: Node
    x: float
    y: float
    w: float
    h: float
    font: float
    lines: tuple[str, ...]
    rtl: bool

    @property
    def pk(self) -> int:
        return self.node.pk

    @property
    def text_x(self) -> float:
        return round(self.x + self.w - PAD if self.rtl else self.x + PAD, 1)

    @property
    def text_lines(self) -> list[tuple[float, str]]:
        first = self.y + PAD + self.font * 0.92
        return [(round(first + i * self.font * LINE, 1), line) for i, line in enumerate(self.lines)]

    @property
    def classes(self) -> str:
        names = ["box"]
        if self.node.is_focus:
            names.append("is-focus")
        if self.node.cause.matters_most:
            names.append("matters")
        return " ".join(names)


@dataclass
class Column:
    level: str
    name: tuple[str, ...]  # the level's name, wrapped
    count: int
    x: float
    w: float
    boxes: list[LevelBox] = field(default_factory=list)
    more: int = 0
    more_y: float = 0.0
    rtl: bool = False
    name_font: float = HEAD_FONT

    @property
    def count_text(self) -> str:
        return ngettext("%(count)s cause", "%(count)s causes", self.count) % {"count": self.count}

    @property
    def more_text(self) -> str:
        return ngettext("+%(count)s more", "+%(count)s more", self.more) % {"count": self.more}

    @property
    def text_x(self) -> float:
        return round(self.x + self.w - PAD if self.rtl else self.x + PAD, 1)

    @property
    def name_lines(self) -> list[tuple[float, str]]:
        font = self.name_font
        return [(round(font * (0.95 + i * LINE), 1), line) for i, line in enumerate(self.name)]

    @property
    def name_height(self) -> float:
        return self.name_font * (0.95 + (len(self.name) - 1) * LINE)

    @property
    def count_y(self) -> float:
        return round(self.name_height + COUNT_FONT * 1.35, 1)

    @property
    def more_box(self) -> tuple[float, float, float, float]:
        return (self.x, self.more_y, self.w, round(COUNT_FONT * LINE + 2 * PAD, 1))

    @property
    def more_baseline(self) -> float:
        return round(self.more_y + PAD + COUNT_FONT * 0.92, 1)


@dataclass
class LevelsDrawing:
    width: float
    height: float
    columns: list[Column]
    head: float  # the height of the columns' names and counts
    font: float
    shown: int
    folded: int

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width:g} {round(self.height, 1):g}"


def _fill(column: Column, nodes: list[Node], font: float, top: float, bottom: float) -> None:
    """Put `nodes` in `column` from `top` down, folding what does not fit above `bottom`."""
    column.boxes, column.more = [], 0
    y = top
    more_h = COUNT_FONT * LINE + 2 * PAD + BOX_GAP
    for i, node in enumerate(nodes):
        text = node.cause.text
        lines = wrap(text, font, column.w, node.is_focus)
        h = round(len(lines) * font * LINE + 2 * PAD, 1)
        last = i == len(nodes) - 1
        if y + h > bottom - (0 if last else more_h):
            column.more = len(nodes) - i
            break
        column.boxes.append(
            LevelBox(node, column.x, round(y, 1), column.w, h, font, lines, is_rtl(text))
        )
        y += h + BOX_GAP
    column.more_y = round(y, 1)


def name_lines(name: str, width: float) -> tuple[float, tuple[str, ...]]:
    """A level's name wrapped at the largest size that keeps every word whole
    (the smallest size breaks a word that still does not fit)."""
    for font in NAME_STEPS:
        lines = wrap(name, font, width, True)
        if " ".join(lines).split() == name.split():
            break
    return font, lines


def layout(built: Tree, *, aspect: float, rtl: bool = False) -> LevelsDrawing:
    """The causes of `built` by level, in a drawing `aspect` times wider than high."""
    height = round(WIDTH / aspect, 1)
    groups = [g for g in built.by_level() if g[0] or g[2]]  # "not placed yet" only if used
    if rtl:
        groups.reverse()
    width = (WIDTH - GAP * (len(groups) - 1)) / len(groups)
    columns = []
    for i, (level, name, _nodes) in enumerate(groups):
        font, names = name_lines(str(name), width)
        x = round(i * (width + GAP), 1)
        columns.append(Column(level, names, len(_nodes), x, width, rtl=rtl, name_font=font))
    head = max(c.name_height for c in columns) + COUNT_FONT * 2.2
    ordered = [sorted(nodes, key=lambda n: n.depth) for _level, _name, nodes in groups]
    for font in STEPS:
        for column, nodes in zip(columns, ordered, strict=True):
            _fill(column, nodes, font, head, height)
        if not any(c.more for c in columns):
            break
    shown = sum(len(c.boxes) for c in columns)
    return LevelsDrawing(
        width=WIDTH,
        height=height,
        columns=columns,
        head=round(head, 1),
        font=font,
        shown=shown,
        folded=sum(c.more for c in columns),
    )
