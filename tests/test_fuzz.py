"""Every form field and URL parameter, fed arbitrary input (Hypothesis).

Whatever arrives, three promises hold:
- no server error (a 500 fails with its traceback; Hypothesis shrinks the input);
- a rejected request (4xx) changes nothing in the database;
- markup is never sent back raw: the world is seeded with markup (group name,
  title, causes, a participant's name) and the inputs mix markup into
  arbitrary Unicode, so no response may contain one of MARKUP unescaped.

Each test builds its world once; every example runs in a savepoint that is
rolled back, so examples are independent and cheap (and shrink reliably).
"""

import logging
import traceback
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import pytest
from django import forms
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.test import Client
from django.utils.html import escape
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import sessions.forms
from sessions import joincodes, text
from sessions.forms import TypedText
from sessions.models import (
    Action,
    ActionLink,
    Cause,
    Event,
    Group,
    Membership,
    Participant,
    Session,
    Vote,
)
from tests.conftest import PERSONAS, make_cause

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

LIMIT = django_settings.CAUSE_MAX_LENGTH
HTMX = {"HTTP_HX_REQUEST": "true"}
FORM = "application/x-www-form-urlencoded"

# Markup that must never come back raw. Escaped, each loses its meaning; none
# of them occurs in a template, and none is the escaped form of another.
MARKUP = [
    "<b>fz</b>",
    "<script>alert('fz')</script>",
    '"><img src=x onerror=alert(1)>',
    "' onmouseover='fz()",
    "</textarea><b>fz</b>",
    "&lt;i data-fz&gt;",
    "<!--fz-->",
    '" hx-get="/fz',
]
# ...nor in the forms the app turns typed text into (join codes are upper-cased).
DANGEROUS = sorted(
    {
        variant
        for m in MARKUP
        for variant in (m, m.upper(), text.normalise(m), joincodes.normalise(m))
    }
)

# Characters that have broken web apps before: NUL and other controls, bidi
# and zero-width marks, a BOM, line and paragraph separators, combining marks
# (U+0338 turns "<" into "≮" under NFC), characters NFC expands to two
# (U+0958, U+1D15E), private use, noncharacters, template syntax.
SPECIALS = [
    "\x00", "\x01", "\x08", "\x1b", "\x7f", "\x85", "\r", "\n", "\r\n", "\t", "\v", "\f",
    "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202a", "\u202e", "\u2066", "\u2069",
    "\ufeff", "\u2028", "\u2029", "\u00a0", "\u3000", "\u0301", "\u0338", "\u0958",
    "\U0001d15e", "\ufdfa", "\U0001f469\u200d\U0001f4bb", "\ue000", "\uffff", "\U0010ffff",
    "&", "&amp;", "<", ">", '"', "'", "\\", "%", "%00", "{{", "{%", "ß", "İ", "ﬃ", "١",
]  # fmt: skip

PIECES = st.one_of(st.characters(exclude_categories=["Cs"]), st.sampled_from(SPECIALS))


def texts(min_size: int = 0, max_size: int = 30) -> st.SearchStrategy[str]:
    """Arbitrary Unicode (no lone surrogates: form data is UTF-8), rich in SPECIALS."""
    return st.lists(PIECES, min_size=min_size, max_size=max_size).map("".join)


JUNK = texts(max_size=20)
# Text that NFC and control-character stripping interact on: bases, combining
# marks and controls, mixed.
NORMALISATION_HOSTILE = st.text(
    st.one_of(
        st.sampled_from("aeouAC <"),
        st.characters(categories=["Mn"]),
        st.characters(categories=["Cc", "Cf"]),
    ),
    max_size=30,
)


# Text that shows as nothing: zero-width and other format characters, lone
# marks, fillers, spaces. Every text field refuses it.
INVISIBLE = st.text(
    st.sampled_from(
        [
            "\u200b",
            "\u200c",
            "\u200d",
            "\u2060",
            "\ufeff",
            "\u00ad",
            "\u180e",
            "\u034f",
            "\ufe0f",
            "\u3164",
            "\u2800",
            "\u115f",
            "\u0301",
            " ",
            "\u00a0",
            "\n",
        ]
    ),
    min_size=1,
    max_size=12,
)
# Bytes that are not UTF-8, alone or inside ordinary text: refused, never
# stored as replacement characters.
NOT_UTF8 = st.builds(
    lambda before, bad, after: before.encode() + bad + after.encode(),
    JUNK,
    st.sampled_from([b"\xe9", b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"]),
    JUNK,
)


def typed(limit: int) -> st.SearchStrategy[str]:
    """What someone might type into a field of `limit` characters, or an attacker send."""
    edges = [
        "", " ", "\n\n", "\x00", "\x00" * 10, "\u200f", "\u202e",
        "x" * limit, "x" * (limit + 1), "  " + "x" * limit + "\n",
        "e\u0301" * limit,  # NFC halves it: fits
        "\u0958" * (limit // 2), "\u0958" * (limit // 2 + 1),  # NFC doubles it
        "<b>fz</b>" * (limit // 9 + 1),
    ]  # fmt: skip
    return st.one_of(
        texts(max_size=limit + 10),
        st.builds(lambda a, m, b: a + m + b, JUNK, st.sampled_from(MARKUP), JUNK),
        # Long: up to 2000 characters of a short repeated pattern.
        st.builds(
            lambda unit, n: (unit * n)[:n],
            texts(1, max_size=4),
            st.integers(0, 2000),
        ),
        NORMALISATION_HOSTILE,
        INVISIBLE,
        st.sampled_from(edges),
        # Plain words, as most people type.
        st.text(st.characters(categories=["L", "N", "P", "Zs"]), min_size=1, max_size=60),
    )


def sent(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """A form field as a client may send it: the value, or no field at all (None)."""
    return st.one_of(st.none(), strategy)


def mostly(usual: st.SearchStrategy, *unusual: st.SearchStrategy) -> st.SearchStrategy:
    """`usual` three times as often as each of `unusual`: requests get past one field's
    validation often enough for the other fields, and the view behind, to be exercised."""
    return st.one_of(usual, usual, usual, *unusual)


# Form data is what a client can send: any UTF-8 string, or bytes that are not
# UTF-8 at all (Django decodes them with replacement characters).
def typed_or_bytes(limit: int) -> st.SearchStrategy:
    return mostly(typed(limit), st.binary(max_size=40), NOT_UTF8, st.none())


@dataclass(frozen=True)
class Ref:
    """A cause of the world, by role: its id exists only once the world does."""

    name: str


# Causes of the world's session, by role (see grow()), and two of another session.
OWN_CAUSES = ["top", "child", "grandchild", "mine_alone", "mine_pending", "hidden", "merged"]
FOREIGN_CAUSES = ["other", "others_answer"]
REFS = st.sampled_from(OWN_CAUSES + FOREIGN_CAUSES).map(Ref)

NUMBERS = st.one_of(
    st.integers(-(2**70), 2**70),
    st.sampled_from([0, 1, -1, 2**31, 2**63 - 1, 2**63, 2**64, 10**30]),
)
NUMBER_TEXT = st.one_of(
    NUMBERS.map(str),
    st.sampled_from(
        ["", " ", "1.0", "1.5", "1e3", "0x10", "+1", " 1 ", "١", "１", "1_0", "NaN", "inf", "-0"]
    ),
    st.just("9" * 5000),  # beyond int()'s digit limit
)
# A cause id in a form: a number of any size, a real cause of this or another
# session, or anything at all.
CAUSE_FIELD = st.one_of(st.none(), st.just(""), REFS, REFS, NUMBER_TEXT, texts(max_size=30))

# A public id or a join code in a URL: anything that fits in a path segment once quoted.
SEGMENTS = st.one_of(
    texts(1, max_size=40),
    st.from_regex(r"[A-Za-z0-9_-]{1,20}", fullmatch=True),
    st.sampled_from(["\x00", "%00", "..", ".", " ", "a" * 17, "a" * 3000, *MARKUP]),
)


# The world, grown once per test.


def grow(world) -> dict[str, int]:
    """Markup in every stored text, and a tree with a cause in every state."""
    session = world.session
    Group.objects.filter(pk=world.group.pk).update(name="Riverside <b>fz</b>")
    Session.objects.filter(pk=session.pk).update(
        title="<script>alert('fz')</script>", situation='"><img src=x onerror=alert(1)>'
    )
    Participant.objects.filter(pk=world.me.pk).update(name="' onmouseover='fz()")
    top = make_cause(session, "No street lights <b>fz</b>")
    session.ask_why(top)
    child = session.add_cause("Budget & <script>alert('fz')</script>", top.pk, author=world.me)
    grandchild = make_cause(session, "</textarea><b>fz</b>", child)
    mine_alone = session.add_cause('" hx-get="/fz', None, author=world.me)
    mine_pending = make_cause(session, "<!--fz-->", top, state="pending", author=world.me)
    hidden = make_cause(session, "&lt;i data-fz&gt;", state="hidden")
    merged = make_cause(session, "lights again", state="merged", merged_into=top)
    other = make_cause(world.other_session, "<b>fz</b> elsewhere")
    others_answer = world.other_session.add_cause("theirs", None, author=world.someone_else)
    session.ask_why(top)
    for persona in PERSONAS:
        world.as_(persona).raise_request_exception = False
    return {
        "top": top.pk,
        "child": child.pk,
        "grandchild": grandchild.pk,
        "mine_alone": mine_alone.pk,
        "mine_pending": mine_pending.pk,
        "hidden": hidden.pk,
        "merged": merged.pk,
        "other": other.pk,
        "others_answer": others_answer.pk,
    }


@pytest.fixture
def refs(world) -> dict[str, int]:
    return grow(world)


def resolved(value, refs: dict[str, int]):
    return str(refs[value.name]) if isinstance(value, Ref) else value


@contextmanager
def rolled_back():
    """Run one example in a savepoint, then undo whatever it did."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def quiet_request_log():
    """Thousands of 404s, and every 500 again while Hypothesis shrinks, would drown
    the output: send() reports a server error itself, with the app's frames."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


# Requests and the three promises.


def encode(fields: dict) -> str:
    return urlencode([(name, value) for name, value in fields.items() if value is not None])


def send(client: Client, method: str, url: str, fields: dict | None = None, **headers):
    """One request; a server error fails the test, with the input and the traceback."""
    if method == "POST":
        response = client.post(url, encode(fields or {}), content_type=FORM, **headers)
    else:
        query = encode(fields or {})
        response = client.get(f"{url}?{query}" if query else url, **headers)
    if response.status_code >= 500:
        raise AssertionError(
            f"{method} {url} {fields!r} -> {response.status_code}\n{server_error(response)}"
        )
    return response


def server_error(response) -> str:
    """The exception behind a 500 and the app's frames it went through."""
    if not response.exc_info:
        return "(no exception: the view answered 5xx itself)"
    _type, error, tb = response.exc_info
    ours = [f for f in traceback.extract_tb(tb) if "/.venv/" not in f.filename]
    frames = "".join(traceback.format_list(ours[-3:]))
    return f"{frames}{type(error).__module__}.{type(error).__qualname__}: {error}"


MODELS = [Cause, Participant, Session, Event, Group, Membership, Vote, Action, ActionLink]


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table the app writes to, id first (raw SQL: this runs per example)."""
    rows = {}
    with connection.cursor() as cursor:
        for model in MODELS:
            table, pk = (connection.ops.quote_name(n) for n in (model._meta.db_table, "id"))
            cursor.execute(f"SELECT {pk}, * FROM {table} ORDER BY {pk}")
            rows[model.__name__] = cursor.fetchall()
    return rows


def assert_unchanged(before: dict[str, list[tuple]], why: str) -> None:
    after = snapshot()
    changed = [name for name in before if before[name] != after[name]]
    assert not changed, f"{why}, yet these tables changed: {changed}"


def assert_promises(
    response, before, allowed: set[int], *, read_only: str = "", echoable: tuple = ()
) -> None:
    """The status is one the view may give; a rejection changed nothing; markup is escaped.

    `read_only`: why this request must change nothing, whatever its status.
    `echoable`: the values the request carried, which the response may echo, escaped.
    """
    event(f"HTTP {response.status_code}")
    assert response.status_code in allowed, response.status_code
    if read_only:
        assert_unchanged(before, read_only)
    elif 400 <= response.status_code < 500:
        assert_unchanged(before, f"The request was rejected ({response.status_code})")
    assert_escaped(response, echoable)


def assert_escaped(response, echoable: tuple = ()) -> None:
    """No seeded or generated MARKUP comes back raw, nor any value the request sent.

    A sent value is checked as sent and as the app normalises it, when escaping
    changes it and a correct echo could not contain it (long enough that a
    template cannot contain it by chance).
    """
    body = response.content.decode("utf-8", "replace")
    raw = [fragment for fragment in DANGEROUS if fragment in body]
    assert not raw, f"Sent back unescaped: {raw}"
    for value in echoable:
        if not isinstance(value, str):
            continue
        for variant in {value, text.normalise(value), joincodes.normalise(value)}:
            escaped = escape(variant)
            if len(variant) >= 12 and variant not in escaped and variant in body:
                raise AssertionError(f"Sent back unescaped: {variant!r}")


def assert_cleaned(value: str, limit: int, *, multiline: bool = False) -> None:
    """Stored typed text: trimmed, white space collapsed, no control characters, short."""
    assert value and len(value) <= limit
    assert value == value.strip()
    for line in value.split("\n") if multiline else [value]:
        assert line == " ".join(line.split())
    assert "\n\n\n" not in value
    assert all(unicodedata.category(ch) != "Cc" for ch in value.replace("\n", "")), value
    assert multiline or "\n" not in value
    assert_readable(value)


def assert_readable(value: str) -> None:
    """Stored typed text (if any) shows something, and arrived intact."""
    assert not value or not text.is_invisible(value), f"stored invisible text {value!r}"
    assert "\ufffd" not in value, f"stored damaged text {value!r}"


def new_rows(before, model) -> list:
    known = {row[0] for row in before[model.__name__]}
    return list(model.objects.exclude(pk__in=known).order_by("pk"))


# Normalising typed text (no database).


@FUZZ
@given(value=typed(LIMIT), multiline=st.booleans())
def test_typed_text_is_cleaned_as_documented(value, multiline):
    """text.normalise promises NFC, no control characters, collapsed white space."""
    field = TypedText(max_length=LIMIT, multiline=multiline)
    try:
        cleaned = field.clean(value)
    except forms.ValidationError:
        return
    assert_cleaned(cleaned, LIMIT, multiline=multiline)
    assert unicodedata.is_normalized("NFC", cleaned), f"{value!r} became {cleaned!r}"


# Phones: answering, withdrawing, following the room.


@FUZZ
@given(
    answer=typed_or_bytes(LIMIT),
    parent=CAUSE_FIELD,
    key=mostly(
        st.from_regex(r"[A-Za-z0-9_-]{8,40}", fullmatch=True),
        st.from_regex(r"[A-Za-z0-9_-]{8,40}\n", fullmatch=True),
        texts(max_size=50),
        st.none(),
    ),
    htmx=st.booleans(),
)
def test_any_answer_from_a_phone(world, refs, answer, parent, key, htmx):
    url = f"/p/{world.session.public_id}/answers/"
    fields = {"text": answer, "parent": resolved(parent, refs), "key": key}
    with rolled_back():
        before = snapshot()
        response = send(world.participant, "POST", url, fields, **(HTMX if htmx else {}))
        allowed = {200 if htmx else 302, 400, 404, 409}
        assert_promises(response, before, allowed, echoable=(answer, fields["parent"], key))
        if response.status_code < 400:
            (cause,) = new_rows(before, Cause)
            assert cause.author == world.me and cause.session == world.session
            assert_cleaned(cause.text, LIMIT)
            if isinstance(parent, Ref):
                assert cause.parent_id == refs[parent.name]
            elif not parent:
                assert cause.parent_id is None


@FUZZ
@given(
    cause=mostly(REFS, NUMBERS.map(str), texts(1, max_size=30)),
    htmx=st.booleans(),
)
def test_any_cause_id_withdrawn_from_a_phone(world, refs, cause, htmx):
    segment = quote(resolved(cause, refs), safe="")
    url = f"/p/{world.session.public_id}/answers/{segment}/withdraw/"
    with rolled_back():
        before = snapshot()
        response = send(world.participant, "POST", url, **(HTMX if htmx else {}))
        allowed = {200 if htmx else 302, 404, 409}
        assert_promises(response, before, allowed, echoable=(resolved(cause, refs),))
        if response.status_code < 400:
            # Only one's own answer, and only when nobody answered below it
            # (named, or typed as a number that happens to be its id).
            pk = resolved(cause, refs)
            assert pk in {str(refs["mine_alone"]), str(refs["mine_pending"])}
            assert Cause.objects.get(pk=pk).state == Cause.State.WITHDRAWN


STREAMS = {
    "phone": ("participant", "/p/{}/stream/"),
    "console": ("facilitator", "/s/{}/console/stream/"),
    "projector": ("organizer", "/s/{}/present/stream/"),
}
CURSORS = sent(st.one_of(NUMBER_TEXT, texts(max_size=30)))


# The poll answer renders in a thread with its own connection: it sees only
# committed rows. Every request here is a GET, so nothing needs rolling back.
@pytest.mark.django_db(transaction=True)
@FUZZ
@given(audience=st.sampled_from(sorted(STREAMS)), last=CURSORS, last_event_id=CURSORS)
def test_any_cursor_when_polling(world, refs, audience, last, last_event_id):
    persona, path = STREAMS[audience]
    headers = {} if last_event_id is None else {"HTTP_LAST_EVENT_ID": last_event_id}
    fields = {"poll": "1", "last": last}
    before = snapshot()
    response = send(
        world.as_(persona), "GET", path.format(world.session.public_id), fields, **headers
    )
    assert_promises(response, before, {200, 204}, read_only="Polling only reads")
    last_seq = Session.objects.get(pk=world.session.pk).last_seq
    if response.status_code == 200:
        assert response["X-Seq"] == str(last_seq)
    if last_event_id is None and last and len(last) < 30 and last.isascii() and last.isdigit():
        # A client that is up to date gets nothing; one behind gets the snapshot.
        assert response.status_code == (204 if int(last) >= last_seq else 200)


# Joining.

CODE_VARIANTS = {
    "exact": lambda code: code,
    "lower": str.lower,
    "spaced": lambda code: f" {code[:3]} {code[3:]} ".lower(),
    "dashed": lambda code: f"{code[:3]}-{code[3:]}",
}


@dataclass(frozen=True)
class Code:
    """A real join code (of the world's open session, or the other one), as typed."""

    session: str
    variant: str

    def of(self, world) -> str:
        code = getattr(world, self.session).join_code
        return CODE_VARIANTS[self.variant](code)


CODES = st.one_of(
    texts(max_size=30),
    st.from_regex(f"[{joincodes.ALPHABET}a-z0-9 -]{{4,10}}", fullmatch=True),
    st.builds(
        Code, st.sampled_from(["session", "other_session"]), st.sampled_from(sorted(CODE_VARIANTS))
    ),
    st.builds(lambda a, m, b: a + m + b, JUNK, st.sampled_from(MARKUP), JUNK),
    st.binary(max_size=20),
)


def as_typed(code, world):
    return code.of(world) if isinstance(code, Code) else code


@FUZZ
@given(code=sent(CODES), method=st.sampled_from(["GET", "POST"]))
def test_any_code_on_the_join_form(world, refs, code, method):
    with rolled_back():
        before = snapshot()
        typed_code = as_typed(code, world)
        response = send(
            Client(raise_request_exception=False), method, "/join/", {"code": typed_code}
        )
        # 200: no code sent, the empty form; 400: not a code; 404: no open session has it.
        # 302: a GET goes to the code's join page; a POST joins its session at once.
        assert_promises(
            response,
            before,
            {200, 302, 400, 404},
            read_only="Looking for a code writes nothing" if method == "GET" else "",
            echoable=(typed_code,),
        )
        sessions = {s.join_code: s for s in (world.session, world.other_session)}
        if response.status_code == 302 and method == "GET":
            assert response["Location"] in {f"/join/{c}/" for c in sessions}
        elif response.status_code == 302:
            (participant,) = new_rows(before, Participant)
            session = Session.objects.get(pk=participant.session_id)
            assert session in sessions.values()
            assert response["Location"] == f"/p/{session.public_id}/"
        else:
            assert_unchanged(before, "Only joining writes")


@FUZZ
@given(
    code=st.one_of(SEGMENTS, CODES.filter(lambda c: not isinstance(c, bytes))),
    persona=st.sampled_from(["anonymous", "participant"]),
)
def test_any_code_in_a_join_link(world, refs, code, persona):
    typed_code = as_typed(code, world)
    url = f"/join/{quote(typed_code, safe='')}/"
    with rolled_back():
        before = snapshot()
        response = send(world.as_(persona), "GET", url)
        # 200: the name page of an open session; 302: this phone joined it already.
        assert_promises(
            response,
            before,
            {200, 302, 404},
            read_only="Following a join link writes nothing",
            echoable=(typed_code,),
        )


@pytest.mark.parametrize("names", Session.Names.values)
@FUZZ
@given(name=typed_or_bytes(60))
def test_any_name_when_joining(world, refs, names, name):
    Session.objects.filter(pk=world.session.pk).update(names=names)
    url = f"/join/{world.session.join_code}/"
    with rolled_back():
        before = snapshot()
        response = send(Client(raise_request_exception=False), "POST", url, {"name": name})
        assert_promises(response, before, {302, 400}, echoable=(name,))
        if response.status_code == 302:
            assert response["Location"] == f"/p/{world.session.public_id}/"
            (participant,) = new_rows(before, Participant)
            assert participant.session_id == world.session.pk
            if names == Session.Names.ANONYMOUS:
                assert participant.name == ""
            elif participant.name or names == Session.Names.REQUIRED:
                assert_cleaned(participant.name, 60)
        else:
            assert names != Session.Names.ANONYMOUS, "an anonymous session asks for nothing"


# The facilitator's console.


def console_url(world, path: str = "") -> str:
    return f"/s/{world.session.public_id}/{path}"


@FUZZ
@given(answer=typed_or_bytes(LIMIT), parent=CAUSE_FIELD, htmx=st.booleans())
def test_any_cause_added_on_the_console(world, refs, answer, parent, htmx):
    fields = {"text": answer, "parent": resolved(parent, refs)}
    with rolled_back():
        before = snapshot()
        response = send(
            world.facilitator,
            "POST",
            console_url(world, "causes/"),
            fields,
            **(HTMX if htmx else {}),
        )
        allowed = {200 if htmx else 302, 400, 404, 409}
        assert_promises(response, before, allowed, echoable=(answer, fields["parent"]))
        if response.status_code < 400:
            (cause,) = new_rows(before, Cause)
            assert cause.author is None and cause.state == Cause.State.VISIBLE
            assert_cleaned(cause.text, LIMIT)


@FUZZ
@given(cause=st.sampled_from(OWN_CAUSES), wording=typed_or_bytes(LIMIT))
def test_any_wording_when_editing_a_cause(world, refs, cause, wording):
    url = console_url(world, f"causes/{refs[cause]}/edit/")
    with rolled_back():
        before = snapshot()
        response = send(world.facilitator, "POST", url, {"text": wording})
        assert_promises(response, before, {302, 400, 409}, echoable=(wording,))
        if response.status_code == 302:
            assert_cleaned(Cause.objects.get(pk=refs[cause]).text, LIMIT)


@pytest.mark.parametrize("action", ["merge", "move"])
@FUZZ
@given(cause=st.sampled_from(OWN_CAUSES), target=CAUSE_FIELD)
def test_any_target_when_merging_or_moving(world, refs, action, cause, target):
    url = console_url(world, f"causes/{refs[cause]}/{action}/")
    with rolled_back():
        before = snapshot()
        response = send(world.facilitator, "POST", url, {"target": resolved(target, refs)})
        allowed = {302, 400, 404, 409}
        assert_promises(response, before, allowed, echoable=(resolved(target, refs),))
        if response.status_code == 302:
            moved = Cause.objects.get(pk=refs[cause])
            into = int(resolved(target, refs)) if resolved(target, refs) else None
            if action == "merge":
                assert (moved.state, moved.merged_into_id) == (Cause.State.MERGED, into)
            else:
                assert moved.parent_id == into
            assert moved.session_id == world.session.pk


@FUZZ
@given(
    moderation=mostly(
        st.sampled_from(Session.Moderation.values),
        st.sampled_from(["SHOW", " hold", "", "\x00show"]),
        JUNK,
        st.none(),
    ),
    htmx=st.booleans(),
)
def test_any_moderation_setting(world, refs, moderation, htmx):
    url = console_url(world, "moderation/")
    with rolled_back():
        before = snapshot()
        response = send(
            world.facilitator, "POST", url, {"moderation": moderation}, **(HTMX if htmx else {})
        )
        allowed = {200 if htmx else 302, 400}
        assert_promises(response, before, allowed, echoable=(moderation,))
        if response.status_code < 400:
            assert Session.objects.get(pk=world.session.pk).moderation == moderation


# Groups, members and new sessions.


@FUZZ
@given(name=typed_or_bytes(120))
def test_any_group_name(world, refs, name):
    with rolled_back():
        before = snapshot()
        response = send(world.facilitator, "POST", "/groups/new/", {"name": name})
        assert_promises(response, before, {302, 400}, echoable=(name,))
        if response.status_code == 302:
            (group,) = new_rows(before, Group)
            assert response["Location"] == f"/g/{group.public_id}/"
            assert_cleaned(group.name, 120)
            assert group.role_of(world.facilitator_user) == Membership.Role.FACILITATOR


USERNAMES = ["olga", " olga ", "OLGA", "otto", "fran", "cole", "nobody", "olga\x00", "o" * 151]
ROLES = ["organizer", "facilitator", "Organizer", " facilitator", "owner", ""]


@FUZZ
@given(
    username=mostly(st.sampled_from(USERNAMES), texts(max_size=160), st.none()),
    role=mostly(st.sampled_from(Membership.Role.values), st.sampled_from(ROLES), JUNK, st.none()),
)
def test_any_member_added_to_a_group(world, refs, username, role):
    url = f"/g/{world.group.public_id}/members/"
    with rolled_back():
        before = snapshot()
        response = send(world.facilitator, "POST", url, {"username": username, "role": role})
        assert_promises(response, before, {302, 400}, echoable=(username, role))
        if response.status_code == 302:
            membership = Membership.objects.get(group=world.group, user__username=username.strip())
            assert membership.role == role


SESSION_CHOICES = {
    "kind": Session.Kind.values,
    "language": [code for code, _name in django_settings.LANGUAGES],
    "names": Session.Names.values,
    "moderation": Session.Moderation.values,
}


def choice_or_anything(choices: list[str]) -> st.SearchStrategy:
    near_misses = ["", " ", "\x00", choices[0].upper(), f" {choices[0]}", f"{choices[0]}\x00"]
    return st.one_of(st.sampled_from(choices), st.sampled_from(near_misses), JUNK, st.none())


@FUZZ
@given(
    title=typed_or_bytes(120),
    situation=typed_or_bytes(1000),
    # Half the time every choice is valid, so that the texts decide (and get stored).
    choices=st.one_of(
        st.fixed_dictionaries({name: st.sampled_from(c) for name, c in SESSION_CHOICES.items()}),
        st.fixed_dictionaries({name: choice_or_anything(c) for name, c in SESSION_CHOICES.items()}),
    ),
)
def test_any_new_session(world, refs, title, situation, choices):
    url = f"/g/{world.group.public_id}/sessions/new/"
    with rolled_back():
        before = snapshot()
        fields = {"title": title, "situation": situation, **choices}
        response = send(world.facilitator, "POST", url, fields)
        assert_promises(response, before, {302, 400}, echoable=tuple(fields.values()))
        if response.status_code == 302:
            (session,) = new_rows(before, Session)
            assert response["Location"] == f"/s/{session.public_id}/console/"
            assert session.group == world.group and session.join_code is None
            assert session.created_by == world.facilitator_user
            assert {name: getattr(session, name) for name in SESSION_CHOICES} == choices
            assert_cleaned(session.title, 120)
            assert_cleaned(session.situation, 1000, multiline=True)


# Public ids and cause ids in URLs.

PATHS = {
    "s": [
        "console/", "console/stream/?poll=1", "open/", "close/", "moderation/", "causes/",
        "focus/", "undo/", "delete/", "present/", "present/stream/?poll=1", "qr.svg",
        "causes/{top}/", "causes/{top}/focus/", "causes/{top}/approve/", "causes/{top}/reject/",
        "causes/{top}/hide/", "causes/{top}/unhide/", "causes/{top}/edit/",
        "causes/{top}/merge/", "causes/{top}/move/",
    ],
    "p": ["", "answers/", "answers/{mine_alone}/withdraw/", "stream/?poll=1"],
    "g": ["", "members/", "sessions/new/"],
}  # fmt: skip


@pytest.mark.parametrize("prefix", sorted(PATHS))
@FUZZ
@given(
    data=st.data(),
    public_id=SEGMENTS,
    persona=st.sampled_from(["facilitator", "organizer", "outsider", "participant", "anonymous"]),
    method=st.sampled_from(["GET", "POST"]),
)
def test_any_public_id_in_a_url(world, refs, prefix, data, public_id, persona, method):
    path = data.draw(st.sampled_from(PATHS[prefix]), label="path").format(**refs)
    url = f"/{prefix}/{quote(public_id, safe='')}/{path}"
    with rolled_back():
        before = snapshot()
        response = send(world.as_(persona), method, url)
        # Nobody learns anything: no such page, or log in first, or POST only.
        assert_promises(
            response,
            before,
            {302, 404, 405},
            read_only="Nothing exists at this address",
            echoable=(public_id,),
        )
        if response.status_code == 302:
            assert response["Location"].startswith("/accounts/login/?next=")


CAUSE_PATHS = ["", "focus/", "approve/", "reject/", "hide/", "unhide/", "edit/", "merge/", "move/"]


@FUZZ
@given(
    cause=st.one_of(
        st.integers(2**63 - 1, 2**256).map(str), st.sampled_from(FOREIGN_CAUSES).map(Ref)
    ),
    path=st.sampled_from([*CAUSE_PATHS, "withdraw"]),
    method=st.sampled_from(["GET", "POST"]),
)
def test_any_cause_id_in_a_url(world, refs, cause, path, method):
    cause_id = resolved(cause, refs)
    if path == "withdraw":
        client, url = (
            world.participant,
            f"/p/{world.session.public_id}/answers/{cause_id}/withdraw/",
        )
    else:
        client, url = world.facilitator, console_url(world, f"causes/{cause_id}/{path}")
    with rolled_back():
        before = snapshot()
        response = send(client, method, url)
        assert_promises(response, before, {404, 405}, read_only="No such cause in this session")


SEEDED_PAGES = {
    "console": ("facilitator", "/s/{session}/console/"),
    "projector": ("organizer", "/s/{session}/present/"),
    "phone": ("participant", "/p/{session}/"),
    "cause": ("facilitator", "/s/{session}/causes/{child}/"),
    "group": ("facilitator", "/g/{group}/"),
    "dashboard": ("facilitator", "/"),
}


@pytest.mark.parametrize("page", sorted(SEEDED_PAGES))
def test_every_page_shows_the_seeded_markup_escaped(world, refs, page):
    """The fuzz tests' escaping checks mean something only if pages show the seeded markup."""
    persona, url = SEEDED_PAGES[page]
    url = url.format(session=world.session.public_id, group=world.group.public_id, **refs)
    response = world.as_(persona).get(url)
    assert response.status_code == 200
    assert_escaped(response)
    assert escape("<b>fz</b>") in response.content.decode()


# Refusals every form shares: invisible text, bytes that are not UTF-8, and
# forms in another charset.

TYPED_FIELDS = [
    pytest.param(form, name, id=f"{form.__name__}.{name}")
    for form in vars(sessions.forms).values()
    if isinstance(form, type) and issubclass(form, forms.BaseForm)
    for name, field in form.base_fields.items()
    if isinstance(field, TypedText)
]


def test_every_form_with_typed_text_is_covered():
    """A new form with a text field joins the checks below by itself."""
    names = {param.id for param in TYPED_FIELDS}
    assert {"CauseForm.text", "SessionForm.situation", "AgreeForm.first_step"} <= names
    assert len(names) >= 12


@pytest.mark.parametrize(("form", "name"), TYPED_FIELDS)
@FUZZ
@given(value=st.one_of(INVISIBLE, NOT_UTF8.map(lambda b: b.decode("utf-8", "replace"))))
def test_every_text_field_refuses_invisible_or_damaged_text(form, name, value):
    """Text that shows as nothing, or that arrived broken, is refused with its own message."""
    field = form.base_fields[name]
    try:
        cleaned = field.clean(value)
    except forms.ValidationError as error:
        assert error.code in {"invisible", "damaged", "required"}, error.code
        return
    assert cleaned == "", f"{value!r} was taken as {cleaned!r}"
    assert not field.required


def form_urls(world, refs) -> dict[str, tuple]:
    """Every form the app takes, with who sends it."""
    s, g = world.session.public_id, world.group.public_id
    cause, action = refs["top"], refs.get("lamps")
    urls = {
        "/join/": world.anonymous,
        f"/join/{world.session.join_code}/": world.anonymous,
        f"/p/{s}/answers/": world.participant,
        f"/p/{s}/actions/": world.participant,
        f"/p/{s}/votes/": world.participant,
        "/accounts/login/": world.anonymous,
        "/admin/login/": world.anonymous,
        "/groups/new/": world.facilitator,
        f"/g/{g}/members/": world.facilitator,
        f"/g/{g}/sessions/new/": world.facilitator,
        f"/s/{s}/copy/": world.facilitator,
        f"/s/{s}/causes/": world.facilitator,
        f"/s/{s}/moderation/": world.facilitator,
        f"/s/{s}/voting/": world.facilitator,
        f"/s/{s}/board/": world.facilitator,
        f"/s/{s}/timer/": world.facilitator,
        f"/s/{s}/actions/": world.facilitator,
        f"/s/{s}/causes/{cause}/edit/": world.facilitator,
        f"/s/{s}/causes/{cause}/merge/": world.facilitator,
        f"/s/{s}/causes/{cause}/move/": world.facilitator,
        f"/s/{s}/causes/{cause}/tags/": world.facilitator,
    }
    if action:
        urls[f"/s/{s}/actions/{action}/agree/"] = world.facilitator
        urls[f"/s/{s}/actions/{action}/edit/"] = world.facilitator
    return urls


CHARSETS = st.one_of(
    st.sampled_from(
        [
            "iso-8859-1",
            "latin1",
            "utf-16",
            "utf-16le",
            "utf-7",
            "cp1252",
            "cp500",
            "shift_jis",
            "ascii",
            "x-nonsense",
            "UTF-16",
            '"koi8-r"',
            "utf-32",
        ]
    ),
    st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,15}", fullmatch=True).filter(
        lambda c: c.lower() != "utf-8"
    ),
)


@FUZZ
@given(
    which=st.integers(0, 100),
    charset=CHARSETS,
    answer=typed_or_bytes(LIMIT),
    multipart=st.booleans(),
)
def test_any_form_in_another_charset_is_refused_with_our_page(
    world, refs, which, charset, answer, multipart
):
    urls = form_urls(world, refs)
    url = sorted(urls)[which % len(urls)]
    client = urls[url]
    # Never empty: the test client sends no Content-Type without a body.
    fields = {"text": answer, "name": answer, "title": answer, "username": answer, "role": "x"}
    if multipart:
        boundary = "fzboundary"
        body = (
            b"".join(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                + (value if isinstance(value, bytes) else (value or "").encode())
                + b"\r\n"
                for name, value in fields.items()
            )
            + f"--{boundary}--\r\n".encode()
        )
        content_type = f"multipart/form-data; boundary={boundary}; charset={charset}"
    else:
        body = encode(fields).encode()
        content_type = f"{FORM}; charset={charset}"
    with rolled_back():
        before = snapshot()
        response = client.generic("POST", url, body, content_type=content_type)
        if response.status_code >= 500:
            raise AssertionError(f"POST {url} -> {response.status_code}\n{server_error(response)}")
        assert_promises(response, before, {400}, read_only="A form in another charset")
        assert "character set other than UTF-8" in response.content.decode()
