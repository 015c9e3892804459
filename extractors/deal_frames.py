"""Arms-deal frames: a transaction of named military equipment between parties, read from the
deal's own sentences.

A sentence makes a deal only when it reports a transaction that happened or was decided (sold,
ordered, delivered, approved, signed …) of a weapon system or a specific kind of weapon, not
hedged ("could buy", "talks to acquire", "an offer to sell"), not negated, and not an aggregate
("arms exports rose 36 percent"). Parties come from the deal's sentences only; the value from a
deal sentence or a sentence about the same systems. Systems come from the gazetteer or, when
unseen, from their shape: a designator next to a weapon noun ("AIM-9X missiles"), an "X-class"
ship, a calibre and type ("155mm howitzers")."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Generic, TypeVar

from extractors.money import find_money
from extractors.roles import TaggedSentence, arms_roles
from newsflow.models import Deal, DealSystem

if TYPE_CHECKING:
    from extractors.gazetteer import Gazetteer

# The caller's own sentence type: the sentences it passes in are the evidence it gets back.
S = TypeVar("S", bound=TaggedSentence)

# Each trigger says what happened; the status is the furthest stage any deal sentence reports.
_STATUS_TRIGGERS = (
    (
        "cancelled",
        r"cancel\w*|scrap(?:s|ped|ping)|terminat\w*|collaps\w*|fell through|called off|"
        r"(?:halt|suspend|freez|froze)\w* (?:the |a )?(?:\S+ ){0,8}?(?:sale|deal|purchase|order|package|"
        r"contract|deliver\w*)",
    ),
    (
        "delivered",
        r"deliver(?:s|ed|ing|y|ies)?|took delivery|take delivery|taken delivery|taking delivery|"
        r"received|receives|handed over|hands over|handover|inducted|commissioned|"
        r"donat(?:e|ed|es|ing|ion)|gifted|sent|sends|shipped|supplied|supplies|supplying|"
        r"provid(?:ed|es|ing)|transferred|providing|equipped|(?:to|will) ship|"
        r"will (?:soon )?(?:provide|send|receive)",
    ),
    (
        "ordered",
        r"order(?:s|ed)?|bought|buys|buying|purchas(?:e|ed|es|ing)|procur(?:ed|es|ement of)|acquir(?:ed|es)|"
        r"acquisition of|contracts?|signed|signs|inks?|inked|clinch(?:ed|es)|finali[sz]ed|sealed|"
        r"awarded|awards|won|wins|sold|sells|sale of|sales? of|deal (?:for|to buy|to supply|worth)|"
        r"leas(?:e|ed|es|ing)|licen[cs]ed|licen[cs]e to (?:build|produce|manufacture)|selected|"
        r"chose|chooses|picked|picks|selects|opted for|opts for|pa(?:y|ys|id) for|rolled out|rolls out|equips?|(?:agreement|deal) (?:worth|for|to buy)|"
        r"sell|buy|supply|deliver",
    ),
    # Telling Congress of a sale is the approval step of a US foreign military sale; announcing
    # an aid package with its sum commits the kit.
    (
        "approved",
        r"approv(?:e|ed|es|al)|cleared|green-?light\w*|authori[sz]ed|"
        r"(?:notif(?:y|ies|ied)|inform(?:s|ed)?|tells|told) (?:the )?(?:u\.?s\.? )?(?:congress|lawmakers)"
        r"(?=[^.]{0,80}\b(?:sale|sell|deal|transfer|package)\b)|"
        r"announc(?:e|es|ed|ing) (?:a |an |the )?(?:new |additional |further |another )?"
        r"(?:(?!sanction)\S+ ){0,3}?(?:package|in (?:military|security|defen[cs]e) (?:aid|assistance))",
    ),
    ("offered", r"offered|offers"),
)
_PRIORITY = {status: rank for rank, (status, _) in enumerate(_STATUS_TRIGGERS)}
_TRIGGER = re.compile("|".join(rf"\b(?P<{status}>{pattern})\b" for status, pattern in _STATUS_TRIGGERS))

# Words that make the following transaction a possibility, a wish or a process, not a fact.
_HEDGE = re.compile(
    r"\b(would|could|might|may|should|consider\w*|plans?|planned|planning|looking|interest\w*|eager|keen|"
    r"talks?|negotiat\w*|unlikely|likely|propos\w*|bids?|bidding|tenders?|competition|competing|seek\w*|"
    r"sought|wants?|wanted|study|studies|lobb\w*|if|whether|offer to|hopes?|hoping|aims?|aiming|intend\w*|"
    r"possible|potential\w*|prospect\w*|future|request\w*|ready to|willing|expected to|set to|poised|"
    r"discuss\w*|explor\w*|evaluat\w*|seeks|wish\w*|demand|rather than|instead of|refus\w*|blocks?|blocking|"
    r"blocked|attempt\w*|tried|trying|draft|pav(?:e|es|ed|ing) (?:the )?way|open(?:s|ed)? the door|requir\w*|needs?|needed|delay\w*|"
    r"bans?|banned|banning|restrict\w*|prohibit\w*|against|opposed|oppose\w*|criticis\w*|protest\w*|"
    r"call(?:s|ed|ing)? for|urg(?:e|es|ed|ing)|strateg(?:y|ies)|doctrine|roadmap)\b"
)
_NEGATION = re.compile(r"\b(not|no|never|neither|nor|yet to|without|n't|failed to|fails to|stopped)\b")
_CLAUSE_BREAK = re.compile(r"[;:,]\s|\b(and|but|which|who|after|before|while|said|says)\b")
# Totals and trends across many deals are statistics, not a deal.
_AGGREGATE = re.compile(
    r"\b(per ?cent|percent|share of|rose|fell|increased|decreased|declin\w*|grew|growth|"
    r"top (?:arms )?exporters?|largest (?:arms )?(?:exporters?|importers?|suppliers?|buyers?)|"
    r"global|worldwide|sipri|fiscal year|over the past|in recent years|record)\b|%"
)
# A specific kind of military equipment (generic "arms" and "weapons" do not make a deal).
_WEAPON_NOUN = (
    r"missiles?|missile systems?|rockets?|rocket launchers?|launchers?|drones?|uavs?|ucavs?|tanks?|howitzers?|"
    r"artillery|guns|cannons?|mortars?|shells|munitions|ammunition|bombs|torpedo(?:es)?|"
    r"fighter jets?|fighters?|jets|warplanes?|combat aircraft|military aircraft|transport aircraft|"
    r"patrol aircraft|trainer aircraft|aircraft|helicopters?|choppers?|gunships?|interceptors?|"
    r"air[- ]defen[cs]e(?: systems?)?|radars?|sonars?|warships?|frigates?|corvettes?|destroyers?|"
    r"submarines?|patrol (?:boats?|vessels?|ships?)|vessels?|boats|ships?|carriers?|"
    r"armou?red (?:vehicles?|personnel carriers?)|vehicles?|apcs?|ifvs?|arvs?|mrap\w*|rifles|"
    r"machine guns|small arms|satellites?|engines?|systems?"
)
_WEAPON_NOUN_RE = re.compile(rf"\b(?:{_WEAPON_NOUN})\b")
# Weapon nouns that name military kit by themselves, without a designator.
_SPECIFIC = re.compile(
    r"\b(missiles?|rocket launchers?|drones?|uavs?|ucavs?|unmanned aerial vehicles?|unmanned aircraft|tanks|howitzers?|artillery|munitions|ammunition|"
    r"torpedo(?:es)?|fighter jets?|fighters|warplanes?|combat aircraft|military aircraft|helicopters?|"
    r"gunships?|interceptors?|air[- ]defen[cs]e systems?|warships?|frigates?|corvettes?|destroyers?|"
    r"submarines?|patrol (?:boats?|vessels?|ships?)|armou?red vehicles?|armou?red personnel carriers?|"
    r"rifles|machine guns|small arms|shotguns|pistols|carbines|grenades|radars?|"
    r"(?:military|rifle|sniper|thermal|optical) (?:scopes|sights)|night[- ]vision (?:devices|goggles))\b"
)
# Not a transfer: co-development, corporate results, arms for non-state groups.
_NOT_TRANSFER = re.compile(
    r"\b(treaty|memorand\w*|mou|joint(?:ly)? develop\w*|co-develop\w*|"
    r"to develop(?![^.;]{0,40}\b(?:manufactur\w*|produce|build)\b)|development programme|"
    r"cash flow|outlook|earnings|profits?|revenues?|quarterly|guidance|investors|share price|"
    r"insurgents?|rebels?|militants?|militias?|guerrillas?|"
    r"exercises?|drills?|war games|budget\w*|shortlist\w*|rfp|request for proposals?|"
    r"debts?|owe[sd]?|owing|arrears|repay\w*|merger|takeover|stake|shareholders?|all-stock|"
    r"acquir\w* (?:the |a )?(?:[\w-]+ ){0,3}(?:company|firm|maker|contractor|group|business|unit|division|shipyard))\b"
)
# A deal told as history ("last year", "a few years ago") is background to the story.
_PAST = re.compile(
    r"\b(last year|years? ago|previously|in the past|over the (?:past )?(?:years|decades?)|"
    r"(?:has|have|had) long (?:bought|operated|used))\b"
)
_YEAR = re.compile(r"\b(?:in|since) ((?:19|20)\d\d)\b")
# A transaction named by its programme rather than its kit ("approved $1 billion in foreign
# military sales to Tokyo"): a deal when it is approved or has a figure.
_GENERIC_DEAL = re.compile(
    r"\b(?:foreign military|arms|weapons?|military equipment|defen[cs]e) "
    r"(?:sales?|packages?|deals?|purchases?|contracts?)\b|"
    r"\bpackage of (?:[\w-]+ )?(?:military |defen[cs]e |security )?(?:aid|assistance)|"
    r"\b(?:in|of) (?:new |additional |more )?(?:military|security) (?:aid|assistance)\b|"
    r"\b(?:military|defen[cs]e|security) (?:aid|assistance) package"
)
# A headline about a budget, a spending plan or a defence bill: what it funds is not yet bought.
_BUDGET = re.compile(r"\b(budgets?|spending|appropriations?|defen[cs]e bill|ndaa|white paper|procurement plan)\b")
_TEASER = re.compile(r"^\W*(?:related|read (?:also|more)|also read|see also|recommended|watch|more)\b[^:]{0,20}:", re.I)
# Kit arriving ("the two aircraft arrived at the base") is a delivery; people arriving are not.
_ARRIVAL = re.compile(rf"\b(?:{_WEAPON_NOUN})\s+(?:\w+\s+){{0,2}}?(?:arrived|arrives|landed|reached)\b")
_CIVIL = re.compile(
    r"\b(airlines?|airliners?|passenger|carrier's|narrowbod\w*|widebod\w*|cargo planes?|freighters?|"
    r"commercial (?:aircraft|jets|planes)|business jets?|tesla|electric vehicles?|civil(?:ian)? (?:aircraft|"
    r"helicopters?|use)|firefight\w*|satellite launch\w*|launch services|weather satellites?)\b"
)
_FORCES = re.compile(
    r"\b(army|navy|air force|armed forces|military|marines|coast guard|defen[cs]e ministry|"
    r"ministry of defen[cs]e|defen[cs]e forces|troops|government|pentagon|forces)\b"
)

_CATEGORY_OF_NOUN = (
    ("air defence systems", r"air[- ]defen[cs]e|interceptors?|sam\b"),
    ("missiles", r"missiles?|rockets?|torpedo|munitions|bombs"),
    ("ships", r"frigates?|corvettes?|destroyers?|submarines?|warships?|vessels?|boats?|ships?|carriers?"),
    ("artillery", r"howitzers?|artillery|guns|cannons?|mortars?|launchers?"),
    ("armoured vehicles", r"tanks?|vehicles?|apcs?|ifvs?|arvs?|mrap\w*|armou?red"),
    ("aircraft", r"jets?|fighters?|warplanes?|aircraft|helicopters?|choppers?|gunships?|drones?|uavs?|ucavs?"),
    ("sensors", r"radars?|sonars?"),
    ("satellites", r"satellites?"),
    ("engines", r"engines?"),
)

# Shapes of unseen system names, matched on the original text (case matters for designators).
_DESIGNATOR = r"(?:[A-Z][A-Za-z]{0,5}-?\d{1,4}[A-Za-z]{0,3}(?:[- ]\d{1,3}[A-Z]?)?|[A-Z]{2,5}-[A-Z0-9]{1,5}|[A-Z]{2,5} \d{1,4}[A-Z]?)"
_NOUN_ANY_CASE = r"(?i:" + _WEAPON_NOUN + r")"
_SHAPES = (
    # "AIM-9X missiles", "K10 ARV", "KF-21 fighter jets", "Type 054A frigates"
    re.compile(rf"\b(?P<name>(?:Type\s+)?{_DESIGNATOR}(?:\s+[A-Z][a-z]+)?)\s+(?P<noun>{_NOUN_ANY_CASE})\b"),
    # "Gowind-class corvettes", "Arleigh Burke-class destroyers"
    re.compile(
        r"\b(?P<name>(?:[A-Z][\w'’]+\s){0,2}[A-Z][\w'’]+[- ]class)\s+(?:[\w-]+\s+){0,2}?(?P<noun>(?i:frigates?|corvettes?|"
        r"destroyers?|submarines?|vessels?|ships?|patrol (?:boats?|vessels?)|carriers?|cruisers?))\b"
    ),
    # A bare hyphenated designator in a transaction sentence: "ordered 40 KF-21s", "the J-10CE deal"
    re.compile(r"(?<![\w-])(?P<name>(?:[A-Z]{1,3}[a-z]?-\d{1,3}[A-Z]{0,3}\+?))(?P<noun>s?)(?![\w-])"),
    # A name before a kind of kit: "Caesar howitzers", "Gowind corvettes", "Archer artillery systems"
    re.compile(
        r"\b(?P<name>[A-Z][a-z]{2,}(?:\s[A-Z][a-z]{2,})?)\s+(?P<noun>(?i:self-propelled howitzers?|"
        r"howitzers?|corvettes?|frigates?|submarines?|destroyers?|fighter jets?|fighters|tanks|"
        r"infantry fighting vehicles?|armou?red vehicles?|helicopters?|drones|missiles|missile systems?|"
        r"air[- ]defen[cs]e systems?|rocket launchers?|artillery systems?|patrol (?:boats?|vessels?)))\b"
    ),
    # "155mm howitzers", "155 mm self-propelled guns", "120-mm mortars"
    re.compile(
        r"\b(?P<name>\d{2,3}\s?-?mm)\s+(?P<noun>(?i:(?:[\w-]+\s){0,2}?(?:howitzers?|guns|cannons?|"
        r"mortars?|artillery|shells|ammunition|rounds)))\b"
    ),
)
# A bare designator counts only beside military words: "COVID-19", "G-20" and "Article-5" do not.
_MILITARY_DESIGNATOR_CONTEXT = re.compile(
    r"\b(fighters?|jets?|aircraft|helicopters?|drones?|missiles?|tanks?|howitzers?|warships?|frigates?|"
    r"submarines?|air force|navy|army|military|defen[cs]e|armed forces)\b"
)
# Capitalised words that start sentences or name institutions, not systems.
_NOT_A_NAME = re.compile(
    r"^(?:The|This|That|These|Those|Its|Their|His|Her|Our|New|More|Most|Some|Any|All|Both|Other|Such|Used|Older|"
    r"Navy|Naval|Army|Air|Force|Forces|Defence|Defense|Ministry|Military|Royal|National|State|Federal|Coast|Guard|"
    r"Marine|Marines|Armed|Land|Sea|Ground|Space|First|Second|Third|Last|Next|Two|Three|Four|Five|Six|Seven|Eight|"
    r"Nine|Ten|Twelve|Several|Many|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|"
    r"March|April|May|June|July|August|September|October|November|December|President|Prime|Minister|General|"
    r"Western|Eastern|Northern|Southern|Soviet|Allied|Advanced|Modern|Stealth|Combat|Attack|Light|Heavy|Main|"
    r"Battle|Multirole|Naval|Additional|Surplus|Refurbished|Upgraded|Domestic|Foreign|Local|Unmanned|Armoured|"
    r"Armored|Tactical|Strategic|Ballistic|Cruise|Guided|Precision|Long|Short|Medium|Range|Class|Type|Block|"
    r"Tranche|Batch|Lot|Phase|Stage|Mark|Model|Version|Variant|Supersonic|Hypersonic|Nuclear|Diesel|Electric|"
    r"Amphibious|Patrol|Transport|Trainer|Utility|Maritime|Coastal|Anti|Surface|Mobile)$"
)
_NOT_A_DESIGNATOR = re.compile(
    r"^(?:COVID|G\d|P\d|Q\d|H\d|A\d|[A-Z]\d?)$|^(?:19|20)\d\d|^(?:COVID|SARS|MERS|G|P|Q|"
    r"H|N|K|A|PM|AM|US|UK|EU|UN|Art|No|Vol|Ch|Fig|Page|Part|Level|Grade|Class|Type|"
    r"Phase|Stage|Block|Tranche|Batch|Lot|Gen|Mk|Mark)-\d+$"
)

_NUMBER_WORDS = {
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "dozen": 12,
    "hundred": 100,
    "a dozen": 12,
    "two dozen": 24,
}
_QUANTITY = re.compile(
    r"(?<![\w.,-])(\d{1,4}|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")\s+"
    r"(?:(?:more|new|additional|advanced|used|second-hand|upgraded|[A-Z][\w-]*|[\w-]+-\w+)\s+){0,3}$"
)
_VALUE_CUE = re.compile(
    r"\b(deal|contract|package|order|agreement|sale|purchase|worth|valued|value|cost|costs|"
    r"priced|price|for|at|totall?ing|billion|million)\b",
    re.I,
)


@dataclass
class FoundSystem:
    name: str
    category: str | None
    from_gazetteer: bool
    start: int
    end: int
    surface: str
    canonical: str | None = None  # the gazetteer's name, when the article spells a variant

    @property
    def key(self) -> str:
        """Sentences about one gazetteer system join one deal, however each spells its variant."""
        return fold(self.canonical or self.name)


@dataclass
class _Draft(Generic[S]):
    sentences: list[S] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)
    systems: dict[str, FoundSystem] = field(default_factory=dict)
    types: dict[str, FoundSystem] = field(default_factory=dict)  # kit named only by its type
    context: list[S] = field(default_factory=list)  # history of the same deal: its value, not its parties
    statuses: set[str] = field(default_factory=set)
    last_index: int = -1


def fold(name: str) -> str:
    """A system name compared without case, spacing, hyphens or diacritics."""
    name = unicodedata.normalize("NFKD", name)
    return re.sub(r"[^a-z0-9]", "", "".join(c for c in name if not unicodedata.combining(c)).lower())


def _category_of(noun: str) -> str | None:
    noun = noun.lower()
    for category, pattern in _CATEGORY_OF_NOUN:
        if re.search(rf"\b(?:{pattern})", noun):
            return category
    return None


def _normalise(name: str) -> str:
    name = re.sub(r"\s+", " ", name.strip())
    name = re.sub(r"(\d)\s?-?mm\b", r"\1mm", name)
    return re.sub(r"\s*-\s*", "-", name)


_VARIANT_TOKEN = re.compile(r"[A-Za-z]{1,5}-?\d[\w-]*")


_GENERIC_TAIL = re.compile(
    rf"(?:\s+(?:attack|fighter|combat|main|battle|air[- ]defen[cs]e|multirole|stealth|"
    rf"{_WEAPON_NOUN}))+$",
    re.I,
)


def article_spelling(canonical: str, surface: str) -> str:
    """The name a deal reports: the gazetteer's, unless the article names a variant of it.

    "AH-64E" under "AH-64 Apache" is the AH-64E Apache; "PAC-3" under "Patriot" is a PAC-3 and
    "K9 Vidar" under "K9 Thunder" a K9 Vidar: names the canonical one does not hold. Aliases that
    only add a generic noun ("Apache helicopters", "F-16 jets") keep the canonical name. Every
    mention still also yields an entity under its canonical name (tagging.py)."""
    said = surface.strip()
    said = said[:-1] if said.endswith("s") and said[:-1] and said[-2].isdigit() else said
    if fold(said) in fold(canonical):
        return canonical
    for base in _VARIANT_TOKEN.findall(canonical):
        for token in _VARIANT_TOKEN.findall(said):
            if fold(token) != fold(base) and fold(token).startswith(fold(base)):
                return canonical.replace(base, token, 1)  # AH-64 Apache -> AH-64E Apache
    # "Belharra frigates" under "FDI frigate", "K9 Vidar" under "K9 Thunder", "PAC-3" under
    # "Patriot": the article's own name, without its generic noun, when the gazetteer's lacks it.
    bare = _GENERIC_TAIL.sub("", said).strip()
    acronym = bare.replace(" ", "").isalpha() and bare.isupper()  # "GMD", "THAAD": the gazetteer's name reads better
    if bare and bare[0].isupper() and not acronym and fold(bare) not in fold(canonical) and len(bare.split()) <= 3:
        return _normalise(bare)
    return canonical


_PROGRAMME = re.compile(
    r"\s+(?:[\w-]+\s+)?(?:programmes?|programs?|projects?|consortium|partnership|"
    r"production line|supply chain)\b",
    re.I,
)


def sentence_systems(s: TaggedSentence) -> list[FoundSystem]:
    """Gazetteer systems of a sentence, and unseen ones found by shape where no gazetteer name is."""
    # "removed from the F-35 programme": a programme named, not kit changing hands
    found = [
        FoundSystem(
            article_spelling(m.name.canonical, m.surface),
            m.name.category,
            True,
            m.start,
            m.end,
            m.surface,
            m.name.canonical,
        )
        for m in s.weapons
        if not _PROGRAMME.match(s.text[m.end : m.end + 40])
    ]
    for shape in _SHAPES:
        for match in shape.finditer(s.text):
            start, end_name = match.start("name"), match.end("name")
            if any(f.start < match.end() and start < f.end for f in found):
                continue
            if _PROGRAMME.match(s.text[match.end("name") : match.end("name") + 40]):
                continue
            name = _normalise(match.group("name"))
            if _NOT_A_DESIGNATOR.match(name.split()[0] if name.split() else name):
                continue
            noun = match.group("noun")
            if shape is _SHAPES[0] and noun.lower() in (
                "systems",
                "system",
                "engines",
                "engine",
                "vessels",
                "vessel",
                "ships",
                "ship",
                "vehicles",
                "vehicle",
            ):
                # "F-16 engines" is a part; "COVID-19 vehicles" nothing: a bare generic noun is too weak
                if not re.match(r"^(?:Type\s+)?[A-Z]{1,4}-?\d", name):
                    continue
            if shape is _SHAPES[2] and not _MILITARY_DESIGNATOR_CONTEXT.search(s.low):
                continue
            if shape is _SHAPES[3] and (
                _NOT_A_NAME.match(match.group("name").split()[0])
                or _NOT_A_NAME.match(match.group("name").split()[-1])
                or any(m.start < end_name and start < m.end for m in s.countries + s.organizations)
            ):
                continue
            if shape is _SHAPES[4]:
                name = f"{name} {noun.split()[-1].rstrip('s')}"
            found.append(FoundSystem(name, _category_of(noun), False, start, match.end("noun"), match.group(0)))
    return found


# A kind of kit named by its type when no name is given: "six diesel-electric submarines".
_MODIFIER = (
    r"(?:[a-z]+-[a-z-]+|[a-z]+(?:ic|al|ous|ive|ary|ed)|attack|combat|battle|main|fighter|cruise|stealth|"
    r"transport|utility|light|heavy|amphibious|patrol|unmanned|strike|trainer|assault|sniper|precision|"
    r"military|naval|air|ground|surface|coastal|tank|infantry|rocket|missile)"
)
_TYPE_PHRASE = re.compile(rf"\b((?:{_MODIFIER}\s){{0,2}})" + _SPECIFIC.pattern[2:])


def type_systems(s: TaggedSentence) -> list[FoundSystem]:
    found = []
    for match in _TYPE_PHRASE.finditer(s.low):
        name = re.sub(r"\s+", " ", match.group(0)).strip()
        words = name.split()
        while len(words) > 1 and _TRIGGER.fullmatch(words[0]):
            words = words[1:]  # "supplied artillery" is artillery: the verb is no modifier
        name = " ".join(words)
        found.append(FoundSystem(name, _category_of(name), False, match.start(), match.end(), name))
    return found


# A past participle after its noun, with no auxiliary, is a reduced relative clause describing kit.
_ORIGIN_PARTICIPLE = re.compile(
    r"^(?:supplied|provided|delivered|donated|sent|shipped|transferred|sold|built|made|"
    r"bought|purchased|acquired|gifted)$"
)
_AUXILIARY = re.compile(r"\b(?:was|were|been|being|is|are|be|has|have|had|will|get|got)\s+(?:\w+\s+){0,2}$")


def _object_kit(s: TaggedSentence, systems: list[FoundSystem]) -> list[FoundSystem]:
    """Kinds of kit in the object of a sentence's transaction, beside its named systems: what
    follows an unhedged trigger up to the end of its clause, not overlapping a named system."""
    out = []
    for _, at in _unhedged_triggers(s.low, s.text):
        clause = re.split(
            r"[;:]|,\s(?!and\b)|\b(?:which|who|after|while|said|says|to|from|for|worth|valued)\b", s.low[at : at + 160]
        )[0]
        end = at + len(clause)
        for f in type_systems(s):
            if (
                at < f.start < end
                and not any(g.start < f.end and f.start <= g.end + 2 for g in systems)
                and not any(fold(f.name) in fold(g.surface) for g in systems)
                and "-made" not in f.name
            ):
                out.append(f)
    return out


_SERVICE_OBJECT = re.compile(
    r"\s+(?:(?:\d[\d,]*|more|additional|extra|some|several|hundreds of|thousands of)\s+)?"
    r"(?:training|intelligence|advice|expertise|troops|soldiers|personnel|instructors|"
    r"advisers|advisors|forces|information)\b|"
    # "received the Distinguished Flying Cross": an honour, not kit
    r"\s+(?:the |an? )?(?:[\w-]+ ){0,3}?(?:awards?|medals?|prizes?|cross|honou?rs?|citations?|"
    r"commendations?)\b"
)


def _unhedged_triggers(low: str, text: str = "") -> list[tuple[str, int]]:
    """(status, position) of each transaction trigger not hedged or negated in its clause."""
    out = []
    words = text.split()
    prose = bool(words) and sum(w[:1].isupper() for w in words) < 0.5 * len(words)
    for match in _TRIGGER.finditer(low):
        if match.start() > 0 and low[match.start() - 1] == "-":
            continue  # "Iranian-supplied drones", "US-provided": where kit came from, not a transaction
        if prose and len(text) == len(low) and match.start() > 0 and text[match.start()].isupper():
            continue  # "Capability Delivery", "Order of Merit": a name or title in running prose
        status = next(k for k, v in match.groupdict().items() if v)
        if (
            _ORIGIN_PARTICIPLE.match(match.group(0))
            and re.match(r"\s(?:by|from)\s", low[match.end() : match.end() + 6])
            and not _AUXILIARY.search(low[max(0, match.start() - 30) : match.start()])
        ):
            continue  # "Patriot systems supplied by the US shot down …", "jets bought from France": where kit came from
        if match.group(0) in ("supplies", "supply") and re.search(
            rf"(?:\b(?:{_WEAPON_NOUN})|'s|\bof|\bthe|\bin)\s+$", low[max(0, match.start() - 30) : match.start()]
        ):
            continue  # "missile supplies are low": a stock, not a transfer
        window = low[max(0, match.start() - 80) : match.start()]
        tail = _CLAUSE_BREAK.split(window)[-1] if _CLAUSE_BREAK.search(window) else window
        if _NEGATION.search(tail) or (_HEDGE.search(tail) and status != "cancelled"):
            continue  # a plan that collapsed is still a cancelled deal
        if status == "offered" and re.match(r"\s+to\b", low[match.end() : match.end() + 4]):
            continue
        if _SERVICE_OBJECT.match(low, match.end()):
            continue  # "will provide training", "sent troops": services and people, not kit
        out.append((status, match.start()))
    return out


def _is_background(s: TaggedSentence, published_at: datetime | None) -> bool:
    if _PAST.search(s.low):
        return True
    year = _YEAR.search(s.low)
    return bool(year and published_at and int(year.group(1)) < published_at.year - 1)


def is_deal_sentence(s: TaggedSentence, systems: list[FoundSystem]) -> list[str]:
    """The statuses a sentence reports for a transaction of military equipment; empty if none."""
    low = s.low
    if _AGGREGATE.search(low) or _CIVIL.search(low) or _NOT_TRANSFER.search(low):
        return []
    if not (systems or _SPECIFIC.search(low) or (_GENERIC_DEAL.search(low) and re.search(r"\bapprov|\d", low))):
        return []
    if not (s.countries or s.organizations or _FORCES.search(low)):
        return []
    return sorted({status for status, _ in _unhedged_triggers(low, s.text)}, key=_PRIORITY.__getitem__)


def _keys(s: TaggedSentence, systems: list[FoundSystem]) -> set[str]:
    if systems:
        return {f.key for f in systems}
    return {m.group(0).rstrip("s") for m in _SPECIFIC.finditer(s.low)}


def _quantity(draft: _Draft[S]) -> int | None:
    for s in draft.sentences:
        spots = [f.start for f in sentence_systems(s)] + [m.start() for m in _SPECIFIC.finditer(s.low)]
        for spot in sorted(spots):
            match = _QUANTITY.search(s.text[max(0, spot - 60) : spot])
            if match:
                word = match.group(1).lower()
                value = int(word) if word.isdigit() else _NUMBER_WORDS.get(word)
                if value and not 1900 <= value <= 2100:
                    return value
    return None


_TOTAL_CUE = re.compile(
    r"\b(?:total(?:l?ing)?|totals|up to|ceiling|overall|in all|all told|combined|"
    r"(?:full|whole|entire) (?:deal|contract|programme|program))\b[^$€£¥₹\d]{0,20}$",
    re.I,
)
# A running total of many deals ("total aid to Ukraine since 2022") is not this deal's total.
_CUMULATIVE = re.compile(r"\b(?:since|so far|to date|cumulative|altogether|over the (?:past|last))\b")
_A_BILLION = re.compile(r"\ba (billion|million) (?:us )?dollars\b")


def _money_in(s: TaggedSentence, published_at: datetime | None) -> float | None:
    spelled = _A_BILLION.search(s.low)
    if spelled:  # "nearly a billion dollars"
        return 1e9 if spelled.group(1) == "billion" else 1e6
    for money in find_money(s.text, published_at):
        before = s.text[max(0, money.start - 40) : money.start]
        if money.value_usd >= 100_000 and (_VALUE_CUE.search(before) or _VALUE_CUE.search(s.text)):
            return money.value_usd
    return None


def _amounts(draft: _Draft[S], published_at: datetime | None) -> tuple[float, ...]:
    return tuple(
        dict.fromkeys(
            m.value_usd
            for s in draft.sentences + draft.context
            for m in find_money(s.text, published_at)
            if m.value_usd >= 100_000
        )
    )


def _value(
    draft: _Draft[S], sentences: list[S], published_at: datetime | None, index: dict[int, int] | None = None
) -> float | None:
    index = index or {}
    # A total beats a phase: "a $439 million first-year contract … could bring the total to $4.5 billion".
    totals = [
        m.value_usd
        for s in draft.sentences
        if not _CUMULATIVE.search(s.low)
        for m in find_money(s.text, published_at)
        if m.value_usd >= 100_000 and _TOTAL_CUE.search(s.text[max(0, m.start - 40) : m.start])
    ]
    if totals:
        return max(totals)
    for s in draft.sentences + draft.context:
        value = _money_in(s, published_at)
        if value:
            return value
    # "needs five … systems for $5.5 billion": a sentence about the same systems gives the value.
    surfaces = {f.surface.lower() for f in draft.systems.values()} | {f.name.lower() for f in draft.systems.values()}
    nouns = {m.group(0).split()[-1].rstrip("s") for d in draft.sentences for m in _WEAPON_NOUN_RE.finditer(d.low)}
    for s in sentences:
        if s in draft.sentences:
            continue
        near = any(0 < index.get(id(s), -9) - index.get(id(d), 99) <= 4 for d in draft.sentences)
        if near and _ANAPHORA.search(s.low) and re.search(r"\b(worth|valued at|cost|costing|price)\b", s.low):
            value = _money_in(s, published_at)  # "The deal, worth about $6.5 billion, also covers …"
            if value:
                return value
        mentions_system = any(x and x in s.low for x in surfaces) or any(
            m.group(0).split()[-1].rstrip("s") in nouns for m in _WEAPON_NOUN_RE.finditer(s.low)
        )
        if mentions_system and re.search(
            r"\b(for|worth|valued at|at a cost of|costing|cost)\s+(?:about |around |"
            r"nearly |some |up to |over |more than )?(?:us)?[$€£¥₹]|\b(for|worth|"
            r"valued at|cost(?:ing)?)\b[^.]{0,25}\d",
            s.low,
        ):
            value = _money_in(s, published_at)
            if value:
                return value
    return None


# Blocs and alliances sell and buy nothing themselves in these frames.
_NOT_PARTIES = {"European Union", "United Nations", "NATO"}


def _parties(draft: _Draft[S], gaz: Gazetteer) -> tuple[tuple[str, ...], tuple[str, ...]]:
    roles = arms_roles(draft.sentences, gaz)
    supplier = {n for n, r in roles.items() if "supplier" in r and n and n not in _NOT_PARTIES}
    recipient = {n for n, r in roles.items() if "recipient" in r and n and n not in _NOT_PARTIES}
    # Two states in the deal's sentences and one role known: the other state holds the other role
    # ("the delivery of Apaches … between Morocco and the United States").
    named = {m.name.canonical for s in draft.sentences for m in s.countries} - _NOT_PARTIES
    others = named - supplier - recipient
    if len(others) == 1 and len(named) == 2 and bool(supplier) != bool(recipient):
        (supplier if recipient else recipient).update(others)
    return tuple(sorted(supplier)), tuple(sorted(recipient))


# "The patrol boats to be procured under the contract are 35m long": a sentence describing the
# deal's kit names systems for it, though it holds no transaction of its own.
_ANAPHORA = re.compile(
    r"\b(?:the|this|that|current|same|latest|new) (?:\w+ )?(?:contract|deal|order|agreement|"
    r"package|purchase|acquisition|sale)\b|\bunder the (?:\w+ )?(?:contract|deal)\b"
)


# "It also includes combat shotguns and scopes": the sentence after a deal lists more of its kit.
_INCLUDES = re.compile(
    r"^\W*(?:it|they|this|these|the (?:[\w-]+ ){0,2}(?:package|sale|deal|order|contract|agreement|"
    r"request|approval|licen[cs]e))\s+(?:also\s+)?(?:includes?|included|comprises?|covers?|consists? of|"
    r"contains?)\b"
)


def _add_described_systems(drafts: list[_Draft[S]], sentences: list[S], index: dict[int, int]) -> None:
    if not drafts:
        return
    used = {id(s) for d in drafts for s in d.sentences}
    for i, s in enumerate(sentences):
        if id(s) in used or _TEASER.match(s.text):
            continue
        listing = bool(_INCLUDES.match(s.low)) and any(
            0 < i - index.get(id(x), -9) <= 6 for d in drafts for x in d.sentences
        )
        if not (listing or _ANAPHORA.search(s.low)):
            continue
        systems = sentence_systems(s)
        kinds = type_systems(s) if listing else []
        if not systems and not kinds:
            continue
        before = [d for d in drafts if index.get(id(d.sentences[0]), 0) <= i]
        draft = before[-1] if before else drafts[0]
        for f in systems:
            draft.systems.setdefault(fold(f.name), f)
        for f in kinds:
            draft.types.setdefault(fold(f.name), f)


LEAD_SENTENCES = 3  # the headline and the first sentences of the body


def _near(a: _Draft[S], b: _Draft[S], index: dict[int, int]) -> bool:
    """The two drafts' sentences are at most two apart: one deal told over a paragraph."""
    return any(abs(index.get(id(x), -99) - index.get(id(y), 99)) <= 2 for x in a.sentences for y in b.sentences)


def _in_lead(draft: _Draft[S], index: dict[int, int]) -> bool:
    return bool(draft.sentences) and min(index.get(id(x), 0) for x in draft.sentences) <= LEAD_SENTENCES


def find_deals(
    candidates: list[S], sentences: list[S], gaz: Gazetteer, published_at: datetime | None = None
) -> tuple[list[Deal], list[S]]:
    """Deals reported in an article, and the sentences they came from. `candidates` are the
    sentences the tagger found arms vocabulary and a transaction cue in; `sentences` all of them."""
    drafts: list[_Draft[S]] = []
    background: list[tuple[_Draft[S], S, list[FoundSystem]]] = []
    index = {id(s): i for i, s in enumerate(sentences)}
    for s in candidates:
        if _TEASER.match(s.text):
            continue  # a link to another story, not this one's deal
        systems = sentence_systems(s)
        statuses = is_deal_sentence(s, systems)
        types = type_systems(s) if not systems else _object_kit(s, systems)
        if systems and _ARRIVAL.search(s.low):
            statuses = sorted(set(statuses) | {"delivered"}, key=_PRIORITY.__getitem__)
        if not statuses:
            continue
        keys = _keys(s, systems)
        i = index.get(id(s), -1)
        draft = next((d for d in drafts if d.keys & keys), None)
        if _is_background(s, published_at):
            # History ("signed in 2018") starts no deal, but tells more about one the story reports.
            if draft is not None:
                background.append((draft, s, systems))
            continue
        if draft is None and not systems and drafts and 0 <= i - drafts[-1].last_index <= 1:
            draft = drafts[-1]  # "The deal also covers training": the deal of the sentence before
        if draft is None:
            draft = _Draft()
            drafts.append(draft)
        draft.sentences.append(s)
        draft.keys |= keys
        draft.statuses.update(statuses)
        draft.last_index = i
        for f in systems:
            draft.systems.setdefault(fold(f.name), f)
        for f in types:
            draft.types.setdefault(fold(f.name), f)
    for draft, s, _ in background:
        draft.context.append(s)
    # A later sentence naming systems of two drafts ("Chunmoo CGR-080 missiles") joins them.
    for i in range(len(drafts) - 1, 0, -1):
        into = next((d for d in drafts[:i] if d.keys & drafts[i].keys), None)
        if into is not None:
            late = drafts.pop(i)
            into.sentences.extend(late.sentences)
            into.keys |= late.keys
            into.statuses |= late.statuses
            into.context.extend(late.context)
            for key, f in late.systems.items():
                into.systems.setdefault(key, f)
            for key, f in late.types.items():
                into.types.setdefault(key, f)

    _add_described_systems(drafts, sentences, index)
    parties = [_parties(draft, gaz) for draft in drafts]
    # "India buys a missile system from Russia" under a story about its S-400s, or "Washington
    # approved the sale" beside the NASAMS sentence: a deal naming no system joins the deal it
    # shares its buyer (or all its parties) with, and that deal's parties are read again.
    merged: set[int] = set()
    for k, draft in enumerate(drafts):
        supplier, recipient = parties[k]
        if draft.systems or not (supplier or recipient):
            continue
        target = next(
            (
                j
                for j, d in enumerate(drafts)
                if j != k
                and j not in merged
                and (d.systems or j < k)
                and (parties[j][0] or parties[j][1])
                and (
                    (set(parties[j][0]) >= set(supplier) and set(parties[j][1]) >= set(recipient))
                    or set(parties[j][1]) & set(recipient)
                    or (
                        _near(d, draft, index)
                        and (
                            not parties[j][1]
                            and recipient
                            and not supplier
                            or not parties[j][0]
                            and supplier
                            and not recipient
                        )
                    )
                )
            ),
            None,
        )
        if target is not None:
            drafts[target].sentences.extend(draft.sentences)
            drafts[target].statuses |= draft.statuses
            merged.add(k)
    for j in {j for j in range(len(drafts)) if j not in merged}:
        parties[j] = _parties(drafts[j], gaz)
    budget_story = bool(sentences) and bool(_BUDGET.search(sentences[0].low))
    deals, evidence = [], []
    for k, draft in enumerate(drafts):
        supplier, recipient = parties[k]
        if k in merged:
            continue
        if not supplier and not recipient:
            continue  # a transaction with no state party named in its own sentences is not a deal
        if draft.statuses <= {"offered"}:
            continue  # an offer nobody has taken up is not yet a transaction
        if budget_story and not (supplier and recipient and draft.systems):
            continue  # a budget's shopping list is no deal unless a sale between two states is reported
        if (
            not _in_lead(draft, index)
            and any(_in_lead(d, index) for j, d in enumerate(drafts) if j not in merged)
            and not any(
                _in_lead(d, index)
                and (set(d.systems) & set(draft.systems) or set(p[0] + p[1]) & set(supplier + recipient))
                for d, p in zip(drafts, parties, strict=False)
            )
        ):
            continue  # a story led by one deal: an unrelated deal further down is background
        named = dict(draft.systems)
        for key, f in draft.types.items():
            # Kit named by type beside named systems ("K2 tanks and 155mm ammunition") is part of
            # the deal unless it only restates a named system ("Patriot air defence systems").
            if named and (" " not in f.name or "-made" in f.name or "-built" in f.name):
                continue  # "helicopters" or "US-made helicopters" beside an AH-64E: the same kit
            if not any(key in other or other in key for other in named):
                named[key] = f
        deal_systems = tuple(DealSystem(f.name, f.category, f.from_gazetteer) for f in named.values())
        status = min(draft.statuses, key=_PRIORITY.__getitem__)
        deals.append(
            Deal(
                systems=deal_systems,
                supplier=supplier,
                recipient=recipient,
                status=status,
                evidence=" … ".join(s.text for s in draft.sentences[:3]),
                quantity=_quantity(draft),
                value_usd=_value(draft, sentences, published_at, index),
                amounts_usd=_amounts(draft, published_at),
            )
        )
        evidence.extend(draft.sentences)
    return deals, evidence
