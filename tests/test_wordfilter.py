"""The word filter's names of people: examples in every interface language.

An answer that looks like it names a person is held for the facilitator's
approval (never dropped); the facilitator can take the name out and approve
it in one step (tests/test_safe_room.py).
"""

import pytest

from sessions import wordfilter
from sessions.models import Cause
from tests.conftest import make_group, make_session

NAMES = {
    "en": [
        "My husband Ali hits me when he drinks",
        "Ask @jordan, he saw everything",
        "Officer Brady stops us every night",
        "It started when we met John Carter at the club",
        "Mr Smith never listens to us",
        "my neighbour Tom calls the police on us",
    ],
    "es": [
        "Mi marido Juan me grita",
        "Pregunta a @marisol, ella lo vio",
        "El agente Ramírez nos para siempre",
        "Todo empezó con Pedro Gómez en la fiesta",
        "La Sra. López no nos escucha",
        "mi vecina Carmen llama a la policía",
    ],
    "pt": [
        "Meu marido João grita comigo",
        "Pergunte à @marta, ela viu tudo",
        "O guarda Costa nos manda parar todas as noites",
        "Tudo começou com Ana Silva na festa",
        "A dona Rosa não nos ouve",
        "a minha vizinha Fátima chama a polícia",
    ],
    "fr": [
        "Mon mari Karim me crie dessus",
        "Demande à @lea, elle était là",
        "Le policier Martin nous contrôle tous les soirs",
        "Tout a commencé avec Julie Bernard au foyer",
        "Mme Dupont ne répond jamais",
        "ma voisine Sophie appelle la police",
    ],
    "ar": [
        "زوجي علي يضربني",
        "اسأل @salma عن ذلك",
        "الشيخ حسن لا يسمعنا",
        "الضابط يوسف يوقفنا كل ليلة",
        "جاري اسمه كريم",
        "أخي محمد يصرخ علينا",
    ],
    "sw": [
        "Mume wangu Juma ananipiga",
        "Muulize @amina, aliona kila kitu",
        "Askari Otieno hutusimamisha kila usiku",
        "Yote yalianza na Baraka Mwangi kwenye sherehe",
        "Bi Wanjiru hatusikilizi",
        "jirani yangu Halima huita polisi",
    ],
}

NOT_NAMES = {
    "en": [
        "Drivers speed on Main Street",
        "No street lights at the corner",
        "My husband drinks too much",
        "The Police Station closed last year",
        "Nobody listens to young people",
        "We are afraid. Nobody helps",
    ],
    "es": [
        "Los coches van muy rápido",
        "Mi marido bebe demasiado",
        "Cerraron la Estación de Policía",
        "No hay luces en la calle",
        "Tenemos miedo. Nadie ayuda",
    ],
    "pt": [
        "Os carros andam rápido demais",
        "O meu marido bebe demais",
        "Fecharam o Posto Policial",
        "A Rua Direita não tem luz",
        "Temos medo. Ninguém ajuda",
    ],
    "fr": [
        "Les voitures roulent trop vite",
        "Mon mari boit trop",
        "La Gare du Nord est trop loin",
        "Personne n'écoute les jeunes",
        "On a peur. Personne n'aide",
    ],
    "ar": [
        "زوجي يضربني عندما يشرب",
        "لا توجد إضاءة في الشارع",
        "الشرطة لا تأتي عندما نتصل",
        "جاري لا يسمع",
    ],
    "sw": [
        "Magari yanakwenda kasi sana",
        "Mume wangu anakunywa pombe kupita kiasi",
        "Hakuna taa barabarani",
        "Tunaogopa. Hakuna anayesaidia",
        "Vijana hawana mahali pa kwenda",
    ],
}


@pytest.mark.parametrize(
    ("language", "text"), [(lang, text) for lang, texts in NAMES.items() for text in texts]
)
def test_it_holds_an_answer_that_names_a_person(language, text):
    assert wordfilter.names_someone(text)
    assert wordfilter.matches(text, language)


@pytest.mark.parametrize(
    ("language", "text"), [(lang, text) for lang, texts in NOT_NAMES.items() for text in texts]
)
def test_it_lets_through_an_answer_that_names_nobody(language, text):
    assert not wordfilter.names_someone(text)
    assert not wordfilter.matches(text, language)


def test_an_e_mail_address_is_personal_details_not_a_handle():
    assert wordfilter.matches("write to sam@example.org", "en")
    assert not wordfilter.names_someone("write to sam@example.org")


@pytest.mark.parametrize("language", ["en", "es", "pt", "fr", "ar", "sw"])
def test_a_phone_answer_that_names_someone_waits_for_approval_and_is_kept(db, language):
    group = make_group()
    session = make_session(group, language=language, filter_words=True)
    participant = session.participants.create()
    text = NAMES[language][0]
    cause = session.add_cause(text, author=participant)
    cause.refresh_from_db()
    assert (cause.state, cause.text) == (Cause.State.PENDING, text)
    plain = session.add_cause(NOT_NAMES[language][0], author=participant)
    assert plain.state == Cause.State.VISIBLE


def test_without_the_filter_names_go_straight_to_the_board(db):
    session = make_session(make_group(), filter_words=False)
    cause = session.add_cause(NAMES["en"][0], author=session.participants.create())
    assert cause.state == Cause.State.VISIBLE
