"""Every step of the method: a story to start from, "Why else?", the closing
round, and the plan people take home (with its calendar file)."""

from datetime import date

import icalendar
import pytest
from django.conf import settings
from django.core import checks
from django.test import Client, override_settings

from sessions import storybook
from sessions.models import ClosingLine, Event, GroupStory, Participant, Session
from tests.conftest import join, make_agreed_action, make_cause, make_session

LANGUAGES = [code for code, _name in settings.LANGUAGES]


def phone_url(session: Session, rest: str = "") -> str:
    return f"/p/{session.public_id}/{rest}"


def console_url(session: Session, rest: str = "") -> str:
    return f"/s/{session.public_id}/{rest}"


# Stories


def test_every_language_has_every_story_and_every_story_file_reads():
    stories, problems = storybook.load([storybook.SHIPPED])
    assert problems == []
    keys = set(stories["en"])
    assert len(keys) >= 8
    for language in LANGUAGES:
        assert set(stories[language]) == keys, f"{language} lacks a story"
        for story in stories[language].values():
            assert story.title and story.situation and story.question
    assert {s.kind for s in stories["en"].values()} == {"problem", "success"}
    # Written in each language, not English copied over.
    for language in LANGUAGES[1:]:
        assert stories[language]["street-corner"].title != stories["en"]["street-corner"].title


def test_the_shipped_stories_raise_no_system_check_warning():
    storybook.library.cache_clear()
    assert storybook.check_stories(None) == []


def write(directory, language: str, key: str, source: str) -> None:
    (directory / language).mkdir(parents=True, exist_ok=True)
    (directory / language / f"{key}.toml").write_text(source, encoding="utf-8")


GOOD = 'title = "A story"\nsituation = "Something happens."\nquestion = "Why?"\n'


def test_a_malformed_story_file_is_named_with_its_line_and_the_others_still_load(tmp_path):
    write(tmp_path, "en", "good", GOOD)
    write(tmp_path, "en", "broken", 'title = "Broken"\nsituation = "Fine"\nquestion = "Why?\n')
    write(tmp_path, "en", "empty-title", 'title = "  "\nsituation = "Fine"\nquestion = "Why?"\n')
    write(tmp_path, "en", "no-question", 'title = "T"\nsituation = "S"\n')
    write(tmp_path, "fr", "bad-kind", GOOD + 'kind = "joy"\n')
    stories, problems = storybook.load([tmp_path])
    assert set(stories["en"]) == {"good"}
    assert stories["fr"] == {}
    found = "\n".join(problems)
    assert f"{tmp_path / 'en' / 'broken.toml'}: " in found
    assert "line 3" in next(p for p in problems if "broken.toml" in p)
    assert f"{tmp_path / 'en' / 'empty-title.toml'}, line 1: `title` is empty" in found
    assert f"{tmp_path / 'en' / 'no-question.toml'}: `question` is missing" in found
    assert f"{tmp_path / 'fr' / 'bad-kind.toml'}, line 4: `kind` must be one of" in found


def test_a_story_file_that_is_not_utf8_or_in_no_language_of_the_site_is_left_out(tmp_path):
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "latin.toml").write_bytes(b'title = "Caf\xe9"\n')
    write(tmp_path, "de", "fremd", GOOD)
    stories, problems = storybook.load([tmp_path])
    assert stories["en"] == {}
    assert any("latin.toml: not UTF-8" in p for p in problems)
    assert any("'de' is not one of the site's languages" in p for p in problems)


def test_the_system_check_names_a_malformed_story_and_a_missing_translation(tmp_path):
    write(tmp_path, "en", "ours", GOOD)
    write(tmp_path, "es", "broken", 'title = "Roto\n')
    with override_settings(STORIES_DIRS=[str(tmp_path)]):
        storybook.library.cache_clear()
        try:
            found = storybook.check_stories(None)
            assert storybook.find("ours", "en").title == "A story"
            # A story missing in a language falls back to English.
            assert storybook.find("ours", "fr").title == "A story"
        finally:
            storybook.library.cache_clear()
    assert all(isinstance(message, checks.Warning) for message in found)
    messages = [message.msg for message in found]
    assert any("broken.toml" in m and "line 1" in m for m in messages)
    assert any("'ours' has no 'es' version" in m for m in messages)


def test_the_new_session_page_lists_the_stories_in_the_chosen_language(world):
    url = f"/g/{world.group.public_id}/sessions/new/?stories=es"
    page = world.facilitator.get(url).content.decode()
    for story in storybook.stories_in("es"):
        assert story.title in page
    assert 'data-story="street-corner"' in page


def test_a_story_fills_the_new_session_and_marks_it_made_up(world):
    url = f"/g/{world.group.public_id}/sessions/new/?story=street-corner&stories=es"
    response = world.facilitator.get(url)
    assert response.status_code == 200
    story = storybook.find("street-corner", "es")
    form = response.context["form"]
    assert form.initial["situation"] == story.situation
    assert form.initial["language"] == "es"
    assert form.initial["made_up"] is True
    assert form.initial["story_question"] == story.question


def test_an_unknown_story_is_a_clear_404(world):
    url = f"/g/{world.group.public_id}/sessions/new/?story=no-such-story"
    response = world.facilitator.get(url)
    assert response.status_code == 404
    assert "That story is not available" in response.content.decode()


def test_a_made_up_story_says_so_on_the_projector_and_the_phones(world):
    Session.objects.filter(pk=world.session.pk).update(made_up=True)
    present = world.facilitator.get(console_url(world.session, "present/")).content.decode()
    phone = world.participant.get(phone_url(world.session)).content.decode()
    assert "A made-up story" in present
    assert "A made-up story" in phone


def test_a_real_situation_says_nothing_of_the_kind(world):
    phone = world.participant.get(phone_url(world.session)).content.decode()
    assert "A made-up story" not in phone


def test_a_group_saves_a_situation_as_its_own_story_and_starts_from_it(world):
    Session.objects.filter(pk=world.session.pk).update(story_question="Why the corner?")
    response = world.facilitator.post(console_url(world.session, "save-story/"))
    story = GroupStory.objects.get()
    assert (story.group, story.situation) == (world.group, world.session.situation)
    assert story.question == "Why the corner?"
    new = f"/g/{world.group.public_id}/sessions/new/?story=g{story.pk}"
    assert response["Location"] == new
    page = world.facilitator.get(new)
    assert page.context["form"].initial["situation"] == world.session.situation
    assert page.context["form"].initial["made_up"] is True


def test_another_groups_story_cannot_be_started_from(world):
    theirs = GroupStory.objects.create(group=world.other_group, title="T", situation="Theirs")
    url = f"/g/{world.group.public_id}/sessions/new/?story=g{theirs.pk}"
    response = world.facilitator.get(url)
    assert response.status_code == 404
    assert "Theirs" not in response.content.decode()


def test_a_session_made_from_a_story_keeps_the_mark_and_the_question(world):
    url = f"/g/{world.group.public_id}/sessions/new/"
    data = {
        "title": "La esquina",
        "situation": "Jóvenes heridos en la esquina.",
        "made_up": "on",
        "story_question": "¿Por qué se lastiman?",
        "kind": "problem",
        "language": "es",
        "names": "optional",
        "moderation": "show",
    }
    response = world.facilitator.post(url, data)
    assert response.status_code == 302
    session = Session.objects.get(title="La esquina")
    assert session.made_up
    assert session.story_question == "¿Por qué se lastiman?"
    console = world.facilitator.get(console_url(session, "console/")).content.decode()
    assert "¿Por qué se lastiman?" in console


# "Why else?"


def test_why_else_asks_the_phones_for_other_reasons_beside_the_answers(world):
    lights = make_cause(world.session, "No street lights")
    world.session.ask_why(lights)
    make_cause(world.session, "The council cut the budget", lights)
    response = world.facilitator.post(console_url(world.session, "why-else/"))
    assert response.status_code == 302
    world.session.refresh_from_db()
    assert world.session.why_else
    assert world.session.focus == lights
    assert Event.objects.filter(session=world.session, kind="why_else").exists()
    phone = world.participant.get(phone_url(world.session)).content.decode()
    assert "Why else?" in phone
    assert "What other reasons are there for “No street lights”?" in phone
    # Answers go beside the ones there: under the same cause.
    world.participant.post(
        phone_url(world.session, "answers/"),
        {"text": "Thieves took the cables", "parent": lights.pk},
    )
    assert world.session.causes.get(text="Thieves took the cables").parent == lights


def test_but_why_after_why_else_goes_deeper_again(world):
    lights = make_cause(world.session, "No street lights")
    world.session.ask_why_else()
    world.session.refresh_from_db()
    assert world.session.why_else
    world.facilitator.post(console_url(world.session, f"causes/{lights.pk}/focus/"))
    world.session.refresh_from_db()
    assert (world.session.why_else, world.session.focus) == (False, lights)
    phone = world.participant.get(phone_url(world.session)).content.decode()
    assert "But why…" in phone
    assert "Why else?" not in phone


def test_the_script_suggests_why_else_for_one_answer_and_but_why_for_several(world):
    make_cause(world.session, "No street lights")
    console = world.facilitator.get(console_url(world.session, "console/")).content.decode()
    assert "Only one answer so far: ask “Why else?”" in console
    make_cause(world.session, "Cars drive too fast")
    console = world.facilitator.get(console_url(world.session, "console/")).content.decode()
    assert "Several answers here: choose one and ask “But why?”" in console


# The closing round


def closing(session: Session) -> None:
    session.set_phase(Session.Phase.CLOSE)


def test_phones_send_one_line_each_and_the_projector_shows_them_without_names(world):
    closing(world.session)
    named = join(world.anonymous, world.session, name="Amina")
    response = world.participant.post(
        phone_url(world.session, "lines/"), {"text": "We are not alone"}
    )
    assert response.status_code == 302
    world.anonymous.post(
        phone_url(world.session, "lines/"), {"text": "Neighbours can change things"}
    )
    lines = list(world.session.closing_lines.values_list("text", "author", "state"))
    assert lines == [
        ("We are not alone", world.me.pk, "visible"),
        ("Neighbours can change things", named.pk, "visible"),
    ]
    present = world.facilitator.get(console_url(world.session, "present/")).content.decode()
    assert "What did we learn today? What gives us hope?" in present
    assert "We are not alone" in present and "Neighbours can change things" in present
    assert "Amina" not in present


def test_a_success_closes_with_what_we_are_proud_of(world):
    Session.objects.filter(pk=world.session.pk).update(kind="success")
    closing(world.session)
    phone = world.participant.get(phone_url(world.session)).content.decode()
    assert "What are we proud of?" in phone


def test_a_phone_sends_one_line_only(world):
    closing(world.session)
    world.participant.post(phone_url(world.session, "lines/"), {"text": "First"})
    response = world.participant.post(phone_url(world.session, "lines/"), {"text": "Second"})
    assert response.status_code == 409
    assert "You have sent your line already" in response.content.decode()
    assert list(world.session.closing_lines.values_list("text", flat=True)) == ["First"]


def test_a_retried_line_is_kept_once(world):
    closing(world.session)
    for _ in range(2):
        response = world.participant.post(
            phone_url(world.session, "lines/"), {"text": "Hope", "key": "k" * 16}
        )
        assert response.status_code == 302
    assert world.session.closing_lines.count() == 1


@pytest.mark.parametrize("phase", ["why", "reflect", "act", "agree", "review"])
def test_a_closing_line_outside_the_close_step_is_refused_and_kept(world, phase):
    Session.objects.filter(pk=world.session.pk).update(phase=phase)
    response = world.participant.post(phone_url(world.session, "lines/"), {"text": "Too early"})
    assert response.status_code == 409
    page = response.content.decode()
    assert "The closing round has not started yet." in page
    assert "Too early" in page  # what was typed comes back
    assert not ClosingLine.objects.exists()


def test_an_empty_or_long_line_is_refused_with_its_message(world):
    closing(world.session)
    response = world.participant.post(phone_url(world.session, "lines/"), {"text": "   "})
    assert response.status_code == 400
    response = world.participant.post(phone_url(world.session, "lines/"), {"text": "x" * 141})
    assert response.status_code == 400
    assert not ClosingLine.objects.exists()


def test_closing_joining_still_takes_lines_but_an_ended_session_does_not(world):
    closing(world.session)
    world.session.close_for_joining()
    response = world.participant.post(phone_url(world.session, "lines/"), {"text": "In time"})
    assert response.status_code == 302
    world.session.end()
    response = world.anonymous.post(phone_url(world.session, "lines/"), {"text": "Late"})
    assert response.status_code == 403
    late = Client()
    join(late, world.session)
    response = late.post(phone_url(world.session, "lines/"), {"text": "Late"})
    assert response.status_code == 409
    assert "The session has ended" in response.content.decode()
    assert list(ClosingLine.objects.values_list("text", flat=True)) == ["In time"]


def test_lines_are_moderated_like_answers(world):
    Session.objects.filter(pk=world.session.pk).update(moderation="hold")
    closing(world.session)
    world.participant.post(phone_url(world.session, "lines/"), {"text": "Held for a look"})
    line = ClosingLine.objects.get()
    assert line.state == "pending"
    present = world.facilitator.get(console_url(world.session, "present/")).content.decode()
    assert "Held for a look" not in present
    console = world.facilitator.get(console_url(world.session, "console/")).content.decode()
    assert "Held for a look" in console
    world.facilitator.post(console_url(world.session, f"lines/{line.pk}/approve/"))
    line.refresh_from_db()
    assert line.state == "visible"
    world.facilitator.post(console_url(world.session, f"lines/{line.pk}/hide/"))
    line.refresh_from_db()
    assert line.state == "hidden"
    present = world.facilitator.get(console_url(world.session, "present/")).content.decode()
    assert "Held for a look" not in present
    world.facilitator.post(console_url(world.session, f"lines/{line.pk}/unhide/"))
    line.refresh_from_db()
    assert line.state == "visible"


def test_a_line_in_a_state_its_action_does_not_fit_is_a_clear_409(world):
    closing(world.session)
    line = world.session.add_closing_line("Shown", author=world.me)
    response = world.facilitator.post(console_url(world.session, f"lines/{line.pk}/approve/"))
    assert response.status_code == 409
    line.refresh_from_db()
    assert line.state == "visible"


@pytest.mark.parametrize("action", ["approve", "reject", "hide", "unhide"])
def test_a_line_of_another_session_cannot_be_moderated_here(world, action):
    theirs = world.other_session.add_closing_line("Elsewhere", author=None)
    ClosingLine.objects.filter(pk=theirs.pk).update(
        state="hidden"
        if action == "unhide"
        else "pending"
        if action in {"approve", "reject"}
        else "visible"
    )
    before = ClosingLine.objects.get(pk=theirs.pk).state
    response = world.facilitator.post(console_url(world.session, f"lines/{theirs.pk}/{action}/"))
    assert response.status_code == 404
    assert ClosingLine.objects.get(pk=theirs.pk).state == before


def test_the_summary_shows_the_lines_that_were_on_the_wall(world):
    closing(world.session)
    world.session.add_closing_line("We can do this", author=world.me)
    ClosingLine.objects.create(session=world.session, text="Taken down", state="hidden")
    page = world.facilitator.get(console_url(world.session, "summary/")).content.decode()
    assert "What we learned, what gives us hope" in page
    assert "We can do this" in page
    assert "Taken down" not in page


# Take it home


def ended(session: Session) -> None:
    closing(session)
    session.end()


def test_the_take_home_page_opens_once_the_session_has_ended(world):
    response = world.participant.get(phone_url(world.session, "home/"))
    assert response.status_code == 302
    assert response["Location"] == phone_url(world.session)
    assert world.anonymous.get(phone_url(world.session, "home/")).status_code == 404
    ended(world.session)
    phone = world.participant.get(phone_url(world.session)).content.decode()
    assert f'href="{phone_url(world.session, "home/")}"' in phone


def test_the_take_home_page_holds_what_the_group_found_and_agreed(world):
    Session.objects.filter(pk=world.session.pk).update(names="optional")
    lights = make_cause(world.session, "No street lights", author=world.me)
    lights.tag(matters_most=True)
    make_cause(world.session, "A hidden remark", state="hidden")
    make_agreed_action(world.session, "Write to the council", owner="Maria", due=date(2026, 3, 14))
    Participant.objects.filter(pk=world.me.pk).update(name="Amina")
    closing(world.session)
    world.session.add_closing_line("Together we are stronger", author=world.me)
    world.session.end()
    response = world.anonymous.get(phone_url(world.session, "home/"))
    assert response.status_code == 200
    page = response.content.decode()
    assert world.session.situation in page
    assert "No street lights" in page
    assert "Write to the council" in page and "Maria" in page
    assert "Together we are stronger" in page
    assert "A hidden remark" not in page
    assert "Amina" not in page
    assert f'href="{phone_url(world.session, "plan.ics")}"' in page
    assert "no-store" in response["Cache-Control"]


def test_the_take_home_page_is_in_the_phones_language(world):
    ended(world.session)
    page = world.anonymous.get(
        phone_url(world.session, "home/"), headers={"accept-language": "es"}
    ).content.decode()
    assert 'lang="es"' in page


def test_after_the_end_a_qr_code_leads_to_the_take_home_page(world):
    url = console_url(world.session, "take-home-qr.svg")
    assert world.facilitator.get(url).status_code == 404
    ended(world.session)
    response = world.organizer.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    present = world.facilitator.get(console_url(world.session, "present/")).content.decode()
    assert url in present
    console = world.facilitator.get(console_url(world.session, "console/")).content.decode()
    assert url in console


# The calendar file


def parse(content: bytes) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(content)


def test_the_calendar_holds_every_dated_action_of_the_plan(world):
    letter = make_agreed_action(
        world.session,
        "Write to the council; ask for lights, again",
        owner="Maria",
        first_step="Draft the letter, with the petition\nand photos",
        due=date(2026, 3, 14),
    )
    meeting = make_agreed_action(
        world.session,
        "Meet the transit authority about the bus stop near the corner of 5th and Main – ünïcödé",
        owner="Transit authority",
        owner_outside=True,
        due=date(2026, 4, 2),
    )
    make_agreed_action(world.session, "Paint a crossing", due=None)
    world.session.add_action("An idea nobody agreed", [make_cause(world.session).pk])
    response = world.facilitator.get(f"/s/{world.session.public_id}/plan.ics")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    assert ".ics" in response["Content-Disposition"]
    assert all(len(line) <= 75 for line in response.content.split(b"\r\n"))
    events = parse(response.content).walk("VEVENT")
    found = {str(e["SUMMARY"]): e for e in events}
    assert set(found) == {letter.text, meeting.text}
    first = found[letter.text]
    assert first.decoded("DTSTART") == date(2026, 3, 14)
    assert first.decoded("DTEND") == date(2026, 3, 15)
    assert "First step: Draft the letter, with the petition\nand photos" in str(
        first["DESCRIPTION"]
    )
    assert "Who: Maria" in str(first["DESCRIPTION"])
    second = found[meeting.text]
    assert second.decoded("DTSTART") == date(2026, 4, 2)
    assert "outside the group" in str(second["DESCRIPTION"])
    assert len({str(e["UID"]) for e in events}) == 2


def test_a_plan_without_dates_is_a_valid_empty_calendar_and_the_summary_says_so(world):
    make_agreed_action(world.session, "Paint a crossing", due=None)
    response = world.facilitator.get(f"/s/{world.session.public_id}/plan.ics")
    assert response.status_code == 200
    calendar = parse(response.content)
    assert calendar.walk("VEVENT") == []
    assert str(calendar["VERSION"]) == "2.0"
    page = world.facilitator.get(console_url(world.session, "summary/")).content.decode()
    assert "No action in the plan has a date yet" in page
    assert "plan.ics" not in page


def test_the_calendar_is_in_the_sessions_language(world):
    Session.objects.filter(pk=world.session.pk).update(language="es")
    make_agreed_action(world.session, "Escribir", first_step="Borrador", due=date(2026, 3, 14))
    response = world.facilitator.get(f"/s/{world.session.public_id}/plan.ics")
    [event] = parse(response.content).walk("VEVENT")
    assert "Primer paso: Borrador" in str(event["DESCRIPTION"])


def test_a_phone_downloads_the_calendar_from_its_take_home_page(world):
    make_agreed_action(world.session, "Write to the council", due=date(2026, 3, 14))
    url = phone_url(world.session, "plan.ics")
    assert world.anonymous.get(url).status_code == 404
    ended(world.session)
    response = world.participant.get(url)
    assert response.status_code == 200
    [event] = parse(response.content).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Write to the council"


def test_other_sessions_have_no_calendar_here(world):
    other = make_session(world.other_group, title="Theirs")
    assert world.facilitator.get(f"/s/{other.public_id}/plan.ics").status_code == 404


def test_the_json_export_carries_the_story_mark_and_the_closing_lines_without_names(world):
    Session.objects.filter(pk=world.session.pk).update(made_up=True, names="optional")
    Participant.objects.filter(pk=world.me.pk).update(name="Amina")
    closing(world.session)
    world.session.add_closing_line("We can do this", author=world.me)
    data = world.facilitator.get(f"/s/{world.session.public_id}/export.json").json()
    assert data["session"]["made_up"] is True
    [line] = data["closing_lines"]
    assert (line["text"], line["state"]) == ("We can do this", "visible")
    assert "Amina" not in str(data["closing_lines"])
