"""Hold answers with insults, personal details or names of people for approval.

Nothing is ever dropped: a match only means the answer waits in the
console's queue, as it would with "hold answers for approval". The
facilitator can take a name out and approve in one step ("Edit and approve").
"""

import itertools
import re
import unicodedata

# Short lists of common insults, per language; deployers can extend them
# with WORD_FILTER_EXTRA (comma-separated) in the environment.
WORDS = {
    "en": ["fuck", "fucking", "shit", "bitch", "asshole", "bastard", "cunt", "slut", "whore"],
    "es": ["mierda", "puta", "puto", "cabron", "pendejo", "cono", "joder", "gilipollas"],
    "pt": ["merda", "porra", "caralho", "puta", "foda", "foder", "fodido", "cabrão", "otário"],
    "fr": ["merde", "putain", "connard", "connasse", "salope", "encule", "pute", "batard"],
    "ar": ["عاهرة", "شرموطة", "منيوك", "خرا", "كس"],
    "sw": [
        "malaya",
        "kahaba",
        "mshenzi",
        "washenzi",
        "mpumbavu",
        "wapumbavu",
        "fala",
        "msenge",
        "kuma",
        "kumamako",
        "kumanyoko",
        "mavi",
        "mboo",
        "mboro",
        "tomba",
        "kutomba",
    ],
}

# Personal details: e-mail addresses and phone numbers (7 or more digits,
# with spaces, dots or dashes between them).
PERSONAL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+|(?:\+?\d[\s.\-]?){7,}")


def _plain(text: str) -> str:
    """Casefolded, without accents: "Cabrón" matches "cabron"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _listed(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Names of people: "talk about situations, not named people". Heuristics, so
# they err on the side of holding: a held answer only waits for a look.
#
# "@name", as people tag each other.
HANDLE = re.compile(r"(?<![\w.@])@\w{2,}")
# Words for the people around someone, then a capitalised word: "my husband
# Ali", "mi vecino Juan", "ma cheffe Sophie". Arabic has no capitals: there,
# the relation or a title with a common given name, or "his name is".
RELATIONS = {
    "en": "husband wife partner boyfriend girlfriend brother sister son daughter father "
    "mother dad mum mom uncle aunt cousin neighbour neighbor friend boss teacher "
    "colleague stepfather stepmother landlord officer doctor",
    "es": "esposo esposa marido mujer novio novia pareja hermano hermana hijo hija padre "
    "madre papá mamá tío tía primo prima vecino vecina amigo amiga jefe jefa profesor "
    "profesora maestro maestra padrastro madrastra agente casero",
    "pt": "marido esposa esposo mulher namorado namorada companheiro companheira irmão irmã "
    "filho filha pai mãe papai mamãe tio tia primo prima vizinho vizinha amigo amiga chefe "
    "patrão patroa professor professora padrasto madrasta senhorio senhoria policial guarda",
    "fr": "mari femme époux épouse copain copine conjoint conjointe frère sœur soeur fils "
    "fille père mère papa maman oncle tante cousin cousine voisin voisine ami amie "
    "patron patronne chef cheffe prof professeur professeure beau-père belle-mère "
    "policier agent propriétaire",
    # Swahili puts "my", "his", "her" after the word ("mume wangu Juma"), and
    # Bwana, Bi and Mzee are titles before a name ("Bi Amina").
    "sw": "mume mke mumewe mkewe mpenzi mchumba kaka dada ndugu mtoto mwana mwanangu "
    "binti baba mama babu bibi mjomba shangazi binamu shemeji wifi mkwe kambo jirani "
    "rafiki bosi mwalimu daktari dokta askari polisi afisa mwenyenyumba bwana bi mzee "
    "wangu yangu wake yake",
}
# Titles before a surname, in every language: "Mr Smith", "Sra. López", "Mme Dupont".
TITLES = (
    "mr mrs ms miss dr sir madam officer sergeant sgt "
    "dona senhor senhora doutor doutora "
    "sr sra srta don doña dra señor señora "
    "m mme mlle monsieur madame docteur maître"
)
TITLED = re.compile(rf"(?<!\w)(?i:{'|'.join(_listed(TITLES))})\.?\s+(\w+)")
PLACES = _listed(
    "street road avenue lane square park school college university hospital clinic council "
    "rua avenida praça escola colégio universidade clínica posto câmara prefeitura município "
    "polícia estação mercado igreja mesquita bairro centro aldeia vila cidade "
    "police station church mosque centre center market bridge city town hall court house "
    "calle avenida plaza parque escuela colegio hospital ayuntamiento policía estación "
    "mercado iglesia mezquita barrio centro rue avenue place parc école lycée collège "
    "hôpital mairie police gare marché église mosquée quartier centre"
)
ARABIC_NAMES = _listed(
    "محمد أحمد احمد علي حسن حسين عمر خالد يوسف إبراهيم ابراهيم مصطفى محمود سعيد كريم "
    "سامي عادل طارق ياسين عبدالله عبد فاطمة مريم عائشة زينب خديجة نور سارة ليلى هدى "
    "أمينة امينة سلمى رانيا منى"
)
ARABIC_RELATIONS = _listed(
    "زوجي زوجتي أخي اخي أختي اختي ابني بنتي ابنتي أبي ابي أمي امي عمي خالي جاري "
    "جارتي صديقي صديقتي مديري أستاذي استاذي"
)
ARABIC_TITLES = _listed("الأستاذ الاستاذ الشيخ السيد السيدة الحاج الحاجة الدكتور الضابط أبو ابو")
ARABIC_NAMED = re.compile(r"(?<!\w)(?:اسمه|اسمها|يدعى|تدعى)\s+\w+")
# A word, and whether a sentence starts with it.
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_SENTENCE_END = re.compile(r"(?:^|[.!?¿¡:;\"«“(\n])\s*$")


def _capitalised(word: str) -> bool:
    """ "Ali", "López": a capital, then small letters (not "USA", not Arabic)."""
    return word[:1].isupper() and word[1:].islower()


def _words(text: str) -> list[tuple[str, bool]]:
    return [
        (m.group(), bool(_SENTENCE_END.search(text[: m.start()]))) for m in _WORD.finditer(text)
    ]


_RELATIONS = {_plain(w) for words in RELATIONS.values() for w in words.split()}
_PLACES = {_plain(w) for w in PLACES}


def names_someone(text: str) -> bool:
    """Whether `text` looks like it names a person (the rules above): tested on
    examples in every interface language in tests/test_wordfilter.py."""
    if HANDLE.search(text) or ARABIC_NAMED.search(text):
        return True
    if any(_capitalised(name) for name in TITLED.findall(text)):
        return True
    words = _words(text)
    for (before, starts), (word, _starts) in itertools.pairwise(words):
        if _plain(before) in _RELATIONS and _capitalised(word):
            return True
        if before in ARABIC_RELATIONS and word in ARABIC_NAMES:
            return True
        if before in ARABIC_TITLES:
            return True
        # Two capitalised words in a row, not starting a sentence: a first
        # name and a surname, unless they name a place or an institution.
        if (
            not starts
            and _capitalised(before)
            and _capitalised(word)
            and not {_plain(before), _plain(word)} & _PLACES
        ):
            return True
    return False


def matches(text: str, language: str, extra: list[str] | None = None) -> bool:
    if PERSONAL.search(text) or names_someone(text):
        return True
    words = {_plain(w) for w in [*WORDS.get(language, []), *WORDS["en"], *(extra or [])]}
    plain = _plain(text)
    return any(re.search(rf"(?<!\w){re.escape(word)}(?!\w)", plain) for word in words if word)
