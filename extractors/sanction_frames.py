"""Sanction frames: who imposes, threatens, extends, lifts, enforces or evades which sanctions on whom.

A sanctions story is a record, not a bag of words: an action (a verb or its noun, "imposed",
"the lifting of"), a sanctioning party that is a state or bloc, its targets and a regime, all read
from one sentence. A bare mention of sanctions in a causal clause ("because of Western sanctions")
has no action and no party, so it makes no frame; courts, regulators and sports bodies are no state,
so their "sanctions" make none either.

Parties are found by name, demonym, capital or institution: the gazetteer's countries and agencies,
plus `data/sanction_parties.yaml` ("the Treasury", "Brussels", "the Council" in an EU story). The
role comes from the sentence's structure: the subject of the action or a modifier of the measure
("US sanctions", "the EU's arms embargo") imposes; the object, a country after "on" or "against", a
demonym before "companies" or "nationals" is the target."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol, TypeVar

import yaml

from extractors.gazetteer import DATA, Matcher, Mention, Name
from newsflow.models import SanctionAction

if TYPE_CHECKING:
    from extractors.gazetteer import Gazetteer


class SentenceLike(Protocol):
    text: str
    low: str
    countries: list[Mention]
    regimes: list[Mention]
    organizations: list[Mention]


# The caller's own sentence type, so its `candidate` test may rely on more than SentenceLike has.
S = TypeVar("S", bound=SentenceLike)


# The measure itself: nouns and the verbs that are measures on their own ("blacklisted").
_MEASURE = re.compile(
    r"\b(sanction\w*|embargo\w*|blacklist\w*|asset[- ]freez\w*|(?:freez\w*|froze|frozen|unfr\w+)\s+(?:[\w'-]+\s+){0,4}?"
    r"(?:assets|funds|accounts)|(?:assets|funds|accounts)\s+(?:\w+\s+){0,3}?(?:frozen|froze|unfrozen)|"
    r"(?:bar(?:s|red|ring)?|bann?(?:ed|s|ing)?)\s+(?:[\w-]+\s+){0,3}?(?:officials|nationals|citizens|executives|"
    r"lawmakers|americans|britons|individuals|people|journalists|politicians|mps|members|senators|legislators|"
    r"diplomats)|(?:bar|ban)\w*\s+(?:[\w'-]+\s+){0,8}?from (?:entering|travell?ing|visiting)|entry bans?|"
    r"restrictive measures|entity list|export[- ](?:controls?|bans?|restrictions?|curbs)|"
    r"visa (?:bans?|restrictions)|travel bans?|designat\w*|delist\w*|price cap|countermeasures|"
    r"bann?(?:ed|s|ing)?\s+(?:on\s+)?(?:all\s+)?(?:[\w-]+\s+){0,4}?(?:exports?|imports?|purchases|shipments)|"
    r"(?:import|export|oil|trade) bans?|block\w*\s+(?:the\s+)?(?:property|assets)(?: and interests)?)\b"
)
# A state's freeze of arms exports or licences is a measure when it is aimed at a country.
_ARMS_RESTRICTION = re.compile(
    r"\b(?:suspen\w*|revok\w*|revocation of|halt\w*|block\w*|freez\w*|froze|bann?(?:ed|s|ing)?|restrict\w*|"
    r"restrictions on|curbs on)\s+(?:[\w'-]+\s+){0,3}?(?:export licen[cs]es?|licen[cs]es?|arms (?:sales|exports|"
    r"deliveries|trade|transfers|purchases)|weapons? (?:sales|exports|deliveries|transfers)|exports? of (?:arms|weapons))\b"
)
# Actions, by kind, looked for near a measure (see `_action` for which one a sentence reports).
_EVADE = re.compile(
    r"\b(evad\w*|evasion|circumvent\w*|bypass\w*|skirt\w*|violat\w*|breach\w*|bust(?:ing|ed|s)?|"
    r"smuggl\w*|dodg\w*|get around|got around|flout\w*)\b"
)
_ENFORCE = re.compile(
    r"\b(enforc\w*|complian\w*|compl(?:y|ies|ied|ying)|seiz\w*|confiscat\w*|impound\w*|fined|"
    r"penalt\w*|fin(?:e|es|ing)|prosecut\w*|monitor\w*|investigat\w*|prob(?:e|ed|es|ing)|"
    r"charged|indicted|convicted|sentenced|pleaded guilty|"
    r"crack(?:ed|s|ing)? down|prohibit\w*|shunn\w*|de-?risk\w*)\b"
)
_LIFT = re.compile(
    r"\b(lift\w*|eas(?:e|ed|es|ing)|remov\w*|delist\w*|unfr\w+|waiv\w*|relief|roll(?:ed|s|ing)? back|"
    # "scrapped the notification rule" eases a measure; "scrapped the Mi-17 deal" does not
    r"scrap\w*(?!\s+(?:the\s+|a\s+|an\s+|its\s+|their\s+)?(?:[\w$.-]+\s+){0,3}?(?:deal|contract|"
    r"purchase|order|plans?|programme|program|acquisition)\b)|loosen\w*|relax\w*|exempt\w*|carve-?outs?|general licen[cs]es?|"
    r"end(?:s|ed|ing)?\s+(?:to\s+|of\s+)?(?:the\s+|its\s+)?[\w' ]{0,30}?(?:sanctions|embargo))\b"
)
_EXTEND = re.compile(
    r"\b(extend\w*|extension|renew\w*|prolong\w*|roll(?:ed|s|ing)? over|tighten\w*|expand\w*|"
    r"broaden\w*|intensif\w*|reinforc\w*|step(?:s|ped)? up|maintain\w*|keep\w* in place|"
    r"upd?at\w* (?:its |their |the )?sanctions)\b"
)
_IMPOSE = re.compile(
    r"\b(impos\w*|reimpos\w*|trigger\w*|invok\w*|snap(?:s|ped)? back|slap\w*|announc\w*|adopt\w*|unveil\w*|levied|levy|introduc\w*|plac\w*|put|puts|"
    r"hit|hits|hitting|target(?:s|ed|ing)?|sanctioned|sanctioning|sanction|blacklist\w*|designat\w*|"
    r"add(?:ed|s|ing)?|list(?:ed|s|ing)?|froze|frozen|freez\w*|bann?(?:ed|s|ing)?|bar(?:red|s|ring)?|"
    r"restrict\w*|approv\w*|pass(?:ed|es)?|named|took aim|decid\w* to|"
    r"take countermeasures|countermeasures|punish\w*|halt\w*|block\w*|suspend\w*|revok\w*|"
    r"take effect|takes effect|took effect|(?:came|come|comes|entered|enter|enters) into force|"
    r"agree\w*\s+(?:on\s+|to\s+)?(?:[\w-]+\s+){0,4}?(?:sanctions|package|measures|embargo|price cap))\b"
)
_THREAT = re.compile(
    r"\b(threat\w*|could|would|may|might|warn\w*|consider\w*|weigh\w*|risk\w*|fac(?:e|es|ed|ing)|"
    r"prospective|potential|possible|call(?:s|ed|ing)? for|urg\w*|propos\w*|plan(?:s|ned|ning)?|"
    r"seek\w*|push\w* for|ready to|prepared to|mull\w*|contemplat\w*|if|unless|vow\w*)\b"
)
# Another state's reaction presupposes the measure ("Beijing condemned the new US sanctions"); the
# reacting party is no sanctioning party.
_REACT = re.compile(
    r"\b(condemn\w*|criticis\w*|criticiz\w*|denounc\w*|welcom\w*|slam\w*|protest\w*|decr(?:y|ies|ied)|"
    r"reject\w*|oppos(?:e|es|ed|ing)|retaliat\w*|hit back|respond\w* to|illegal|unlawful|illegitimate)\b"
)
_ACTIONS = (
    ("evaded", _EVADE),
    ("enforced", _ENFORCE),
    ("lifted", _LIFT),
    ("extended", _EXTEND),
    ("imposed", _IMPOSE),
    ("reacted", _REACT),
)
_NEAR = 90  # characters between a measure and its action verb

# A party whose sanctions these are: "US sanctions", "the EU's new restrictive measures", "U.S.-designated".
_MODIFIER_WORDS = (
    r"(?:new|additional|further|fresh|more|tough\w*|harsh\w*|financial|economic|sweeping|punitive|"
    r"secondary|sectoral|oil|energy|arms|trade|unilateral|existing|targeted|nuclear|stringent|heavy|"
    r"broad|wide-ranging|first|latest|current|previous|separate|own|autonomous|national|sanctions|[\w]+-related)"
)
_MODIFIES_MEASURE = re.compile(
    rf"^(?:'s?|’s?)?(?:\s+and\s+[\w. ]{{2,30}}?(?:'s)?)?(?:\s+{_MODIFIER_WORDS}){{0,3}}\s+(?:sanction\w*|embargo\w*|"
    r"restrictive measures|blacklist|export controls|export (?:restrictions|bans?|curbs)|restrictions|entity list|"
    r"asset freezes?|countermeasures|designations?)\b|"
    r"^-(?:sanctioned|designated|blacklisted|imposed|led sanctions)\b"
)
# "the Russia Sanctions Act" or "Iran sanctions": a usual target's name before the noun names the target.
USUAL_TARGETS = {"Iran", "North Korea", "Russia", "Syria", "Belarus", "Venezuela", "Cuba", "Myanmar", "Afghanistan"}
_LAW_NAME = re.compile(r"^\s+(?:\w+\s+){0,2}?sanctions\s+(?:act|law|regulations?|programmes?|programs?|regime)\b")
_TARGET_NOUN = re.compile(
    r"^(?:'s?|’s)?\s+(?:[\w-]+\s+){0,2}?(?:companies|company|entities|entity|individuals|nationals|citizens|banks?|"
    r"firms?|networks?|officials?|officers?|vessels|tankers|ships|traders?|suppliers?|businessm[ae]n|oligarchs?|"
    r"central bank|military|regime|programmes?|programs?|exporters?|importers?|airlines?|generals?|commanders?|"
    r"shipping|oil|crude|gas|assets|arms|weapons|imports|exports|goods|products|arms makers|defen[cs]e industry|defen[cs]e contractors?|president|prime minister|"
    r"ministers?|leaders?|elites?|billionaires?|army|navy|air force|intelligence|institutes?|"
    r"agency|unit|procurement|sector|economy|operators?|hackers?|people|customers|lawmakers|politicians)\b"
)
_PASSIVE = re.compile(
    r"^(?:'s?)?[\w\s,-]{0,30}?\b(?:was|were|has been|have been|had been|is being|are being|"
    r"would be|could be|will be|being|be)\s+(?:\w+\s+)?(?:sanctioned|designated|blacklisted|targeted|"
    r"hit|penali[sz]ed|added|placed|put|listed|subjected)\b"
)
_TARGET_BEFORE = re.compile(
    r"\b(?:on|against|targeting|target|aim(?:ed)? at|hit|hits|hitting|bann?(?:ed|ing|s)?|bar(?:red|ring|s)?|sanction(?:ed|ing|s)?|"
    r"blacklist(?:ed|ing|s)?|designat(?:ed|ing|es)|punish(?:ed|ing|es)?|penali[sz](?:ed|ing|es))"
    r"\s+(?:the\s+)?(?:(?!(?:for|to|with|by|from|in|of|and|or|that|after|over)\b)[\w-]+\s+){0,3}?$"
)
_LINKED = re.compile(r"^[-\s]*(?:based|linked|registered|flagged|owned|backed|controlled|connected|related)\b")
_HELD_IN = re.compile(
    r"\b(?:companies|firms|entities|individuals|banks|businesses|people|persons|vessels)\s+"
    r"(?:based\s+|registered\s+)?in\s+(?:the\s+)?$"
)
_AGENT_BEFORE = re.compile(r"\bby\s+(?:the\s+)?$|\bby\s+(?:[\w-]+\s+){1,3}?(?:including|such as|led by)\s+(?:the\s+)?$")
_ALONGSIDE_BEFORE = re.compile(
    r"\b(?:alongside|along with|together with|joined by|in coordination with|"
    r"in concert with)\s+(?:the\s+)?$"
)
_FROM_BEFORE = re.compile(r"\b(?:sanctions|embargo|measures|penalties)\s+(?:\w+\s+){0,2}?from\s+(?:the\s+)?$")
_CLAUSE_END = re.compile(
    r"[;:]|\b(?:which|who|whom|whose|that|while|after|before|because|but|although|when|"
    r"according|told|if|said|says|to|than|following|of|from|with|by|there)\b"
)
_SAID_IT = re.compile(r"\b(?:said|says|announced|confirmed)\s+(?:on \w+\s+)?(?:that\s+)?(?:it|they)\b")
_SUBJECT_OF_FACING = re.compile(
    r"^\s+(?:\w+\s+){0,2}?(?:fac(?:e|es|ed|ing)|risk(?:s|ed|ing)?|could face|may face|"
    r"would face|evad\w*|violat\w*|circumvent\w*|breach\w*|bypass\w*|skirt\w*|"
    r"was hit|were hit|came under)\b"
)
_ACTOR_NOUN = re.compile(
    r"^\s+(?:[\w-]+\s+){0,1}?(?:government|authorities|officials|ministry|foreign ministry|"
    r"treasury|regulators?|lawmakers|parliament|cabinet|president|prime minister|leader|"
    r"administration|state department|commerce department|embassy)\b"
)
_SENTENCE_SUBJECT = re.compile(r"^(?:[A-Z][A-Z .,]+\s+[—–-]+\s+)?(?:the\s+)?$", re.I)
# After the action a country is its target, unless it only places or quotes something.
_NOT_TARGET_BEFORE = re.compile(
    r"\b(?:in|at|to|by|with|said|says|told|according to|than|from|of|between|"
    r"alongside|during|for)\s+(?:the\s+)?$"
)
_SAID_AFTER = re.compile(r"^(?:'s)?\s+(?:\w+\s+){0,2}?(?:said|says|told|announced|added)\b")
_ARMS_TO = re.compile(
    r"\b(?:sales|exports?|deliveries|transfers|trade|licen[cs]es?|shipments|chips|technology|goods|"
    r"parts|components|equipment)\s+(?:[\w-]+\s+){0,3}?(?:to|with)\s+(?:the\s+)?$|"
    r"\b(?:relief|waivers?|exemptions?)\s+(?:for|to)\s+(?:the\s+)?$|\b(?:bound|destined)\s+for\s+(?:the\s+)?$"
)
_COORDINATION = re.compile(r"^(?:,\s*|,?\s+and\s+|,?\s+as well as\s+)(?:the\s+)?$")
_COMPANY = re.compile(
    r"\b((?:[A-Z][\w&.'-]*\s+){0,4}?[A-Z][\w&.'-]*\s+(?:LLC|LLP|Ltd|Limited|Inc|Corp|Corporation|Co|Company|Group|"
    r"SRO|JSC|PJSC|OJSC|GmbH|AG|SA|PLC|plc|Bank|Industries|Holdings|Shipping|Trading))\b\.?"
)
_PERSON = re.compile(
    r"\b(?:[Pp]resident|[Pp]rime [Mm]inister|[Ff]oreign [Mm]inister|[Mm]inister|[Ll]eader|[Dd]irector|[Cc]hief|"
    r"[Gg]eneral|[Cc]ommander|Mr|Ms|Mrs|Dr|tycoon|oligarch|businessman|businesswoman|national)\.?\s+"
    r"((?:[A-Z][a-z]+(?:-[A-Z][a-z]+)?\s+){1,3}[A-Z][a-z]+(?:-[A-Z][a-z]+)?)\b"
)
_MENTIONS_FOR_ONE_FRAME = 3
_LEAD_SENTENCES = 4  # a frame in the headline or the first sentences is what the story is about


@dataclass(frozen=True)
class _Party:
    name: str
    start: int
    end: int
    surface: str
    demonym: bool
    institution: bool = False  # an agency or body ("OFAC", "the Council"), not a country's name


@dataclass
class SanctionFrames:
    """What an article says about sanctions: its actions, and which sentences hold them."""

    actions: list[SanctionAction] = field(default_factory=list)
    sentences: list[int] = field(default_factory=list)  # indices of the sentences with a frame
    central: bool = False  # a frame in the lead, or frames in two sentences: not one background clause


@dataclass(frozen=True)
class _IndirectNames:
    matcher: Matcher
    contexts: dict[str, str]  # surface -> the party the article must name for it to count
    institutions: frozenset[str]  # surfaces that name an agency or body rather than a place or people


@lru_cache(maxsize=1)
def _indirect_names() -> _IndirectNames:
    contexts: dict[str, str]
    institutions: set[str]
    matcher, contexts, institutions = Matcher(), {}, set()
    for item in yaml.safe_load((DATA / "sanction_parties.yaml").read_text(encoding="utf-8")) or []:
        for surface in list(item.get("places") or []) + list(item.get("institutions") or []):
            matcher.add(str(surface), Name("country", item["party"]), exact=True)
            if item.get("context"):
                contexts[str(surface)] = item["context"]
        institutions.update(str(n) for n in item.get("institutions") or [])
    return _IndirectNames(matcher.finalize(), contexts, frozenset(institutions))


def _parties(s: SentenceLike, gaz: Gazetteer, named: set[str]) -> list[_Party]:
    """Every state or bloc the sentence names, directly or through a capital, agency or metonym."""
    found: list[_Party] = []
    for m in s.countries:
        found.append(_Party(m.name.canonical, m.start, m.end, m.surface, _is_demonym(m.surface, m.name.canonical)))
    for o in s.organizations:
        party = gaz.org_parties.get(o.name.canonical)
        if party:
            found.append(_Party(party, o.start, o.end, o.surface, False, True))
    names = _indirect_names()
    for m in names.matcher.find(s.text):
        context = names.contexts.get(m.surface)
        if context is None or context in named:
            found.append(
                _Party(
                    m.name.canonical,
                    m.start,
                    m.end,
                    m.surface,
                    _is_demonym(m.surface, m.name.canonical),
                    m.surface in names.institutions,
                )
            )
    found.sort(key=lambda p: (p.start, -(p.end - p.start)))
    kept: list[_Party] = []
    for p in found:
        if not kept or p.start >= kept[-1].end:
            kept.append(p)
    return kept


def _is_demonym(surface: str, name: str) -> bool:
    return (
        surface != name
        and bool(re.search(r"(?:an|ian|ean|ese|ish|i|ic|ch|ss|ek|ai|ine)$", surface))
        and not surface.isupper()
    )


_VERB_SANCTIONS = re.compile(
    r"^\s+sanctions\s+(?!(?:on|against|over|for|to|in|and|or|were|are|have|has|had|would|will|could|may|might|"
    r"regime|relief|law|act|programmes?|programs?|package|list|imposed|targeting|that|which|is|was|from|by|"
    r"policy|official|officials|authority|authorities|enforcement|evasion|case|cases)\b)[\w\"'“‘]"
)


def _action(
    text: str, low: str, measures: list[tuple[int, int]], parties: list[_Party]
) -> tuple[str, int, list[int]] | None:
    """The action a sentence reports on its measures, where its verb is, and where every verb of a
    state's act (imposing, lifting, extending, enforcing) is; None for a bare mention.
    Of the verbs near a measure, the one a party is the subject of is the sentence's act ("Commerce
    added ... for diverting parts in breach of export controls" is an imposition); else the nearest."""

    def distance(m: re.Match[str]) -> int:
        return min(max(start - m.end(), m.start() - end, 0) for start, end in measures)

    hits: list[tuple[int, int, str, int]] = []  # (distance, kind order, kind, position)
    for order, (kind, pattern) in enumerate(_ACTIONS):
        for m in pattern.finditer(low):
            if kind == "imposed" and m.group(0) == "sanction" and low[m.end() : m.end() + 1] == "s":
                continue  # the noun "sanctions" is no verb
            if distance(m) <= _NEAR:
                hits.append((distance(m), order, kind, m.start()))
    for p in parties:  # a headline's "US sanctions firms ...": the noun is a verb after its subject
        if _VERB_SANCTIONS.match(text[p.end : p.end + 40]):
            hits.append((0, 4, "imposed", p.end + 1))
    if hits:
        with_subject = [h for h in hits if any(_subject_of(low, p, h[3]) for p in parties)]
        _, _, kind, verb_at = min(with_subject or hits)
        acts = [h[3] for h in hits if h[2] in ("imposed", "lifted", "extended", "enforced")]
        if kind == "imposed" and _THREAT.search(low[max(0, verb_at - 50) : verb_at]):
            return "threatened", verb_at, acts
        return kind, verb_at, acts
    threat = next((m for m in _THREAT.finditer(low) if distance(m) <= _NEAR), None)
    if threat is not None and threat.group(0).startswith(
        (
            "threat",
            "fac",
            "risk",
            "warn",
            "call",
            "urg",
            "propos",
            "consider",
            "weigh",
            "mull",
            "push",
            "vow",
            "prospective",
            "potential",
            "possible",
        )
    ):
        return "threatened", threat.start(), []
    return None


def _subject_of(low: str, p: _Party, verb_at: int) -> bool:
    """Is the party the subject of the action verb at `verb_at`, in the same clause?"""
    if verb_at < p.end or verb_at - p.end > 60:
        return False
    if re.search(
        r"\b(?:to|of|on|against|in|from|with|for|by|over|into)\s+(?:the\s+)?$", low[max(0, p.start - 15) : p.start]
    ):
        return False  # "restrictions on arms exports to China prohibit ...": China is no subject
    if p.demonym and not _ACTOR_NOUN.match(low[p.end : p.end + 40]):
        return False  # "Russian airlines ... in breach of" are no state; "the Chinese government" is
    between = re.sub(r"\bto\s+$", "", low[p.end : verb_at])  # "Germany agreed to loosen ..."
    if _CLAUSE_END.search(between) and not _SAID_IT.search(between):
        return False
    # "Turkey was sanctioned" is the target; "the State Department is sanctioning" the actor.
    if re.match(r"\w+ed\s+by\b", low[verb_at : verb_at + 30]):
        return False  # "Iran and Syria, also targeted by sanctions": the passive subject is the target
    passive = re.search(r"\b(?:was|were|been|being|is|are)\s+(?:\w+\s+)?$", between)
    return not (passive and re.match(r"\w+(?:ed|en)\b", low[verb_at : verb_at + 20]))


def _roles(
    s: SentenceLike, parties: list[_Party], verb_at: int, kind: str, acts: Sequence[int] = ()
) -> tuple[list[str], list[str]]:
    text, low = s.text, s.low if len(s.low) == len(s.text) else s.text.lower()
    sanctioning: list[str] = []
    targets: list[str] = []
    previous: tuple[_Party, str | None] | None = None
    compounds: list[str] = []  # "renews South Sudan arms embargo": a name before the measure, after the act
    acting: list[str] = []  # subjects of an act
    for p in parties:
        before, after = low[max(0, p.start - 40) : p.start], text[p.end : p.end + 80]
        after_low = after.lower()
        role: str | None = None
        # Prepositions and a parenthesis between dashes do not end the action's clause.
        span = re.sub(r"\s[—–]\s[^—–]*\s[—–]\s", " ", low[verb_at : p.start]) if p.start > verb_at else ""
        same_clause = p.start > verb_at and not _CLAUSE_END.search(re.sub(r"\b(?:to|of|with|from|by)\b", "", span))
        if previous is not None and _COORDINATION.match(low[previous[0].end : p.start]):
            role = previous[1]  # "by the United Nations, United States and EU"
        elif _LAW_NAME.match(after_low) or (
            p.name in USUAL_TARGETS
            and not after_low.startswith(("'", "’"))
            and not p.demonym
            and _MODIFIES_MEASURE.match(after_low)
        ):
            role = "target"  # "the Russia Sanctions Act", "Iran sanctions"
        elif _PASSIVE.match(after_low) or re.match(r"^[\w\s,]{0,25}?\b\w+ed\s+by\s+(?:\w+\s+)?sanction", after_low):
            role = "target"  # "Turkey was sanctioned"
        elif _AGENT_BEFORE.search(before) or _FROM_BEFORE.search(before):
            role = "sanctioning"  # "imposed by the EU", "sanctions from Washington"
        elif _TARGET_BEFORE.search(before) or _ARMS_TO.search(before):
            role = "target"  # "sanctions on Iran", "hit Moscow with"
        elif _MODIFIES_MEASURE.match(after_low):
            role = "sanctioning"  # "US sanctions", "the EU's arms embargo"
            if p.start > verb_at and not after_low.startswith(("'", "’")) and not p.demonym:
                compounds.append(p.name)
        elif p.demonym and _TARGET_NOUN.match(after_low):
            role = "target"  # "Russian nationals", "Chinese companies"
        elif _LINKED.match(after_low) or _HELD_IN.search(before):
            role = "target"  # "Iran-based", "companies in the UAE"
        elif _SUBJECT_OF_FACING.match(after_low):
            role = "target"  # "Egypt risks US sanctions", "Iran evaded"
        elif re.match(r"^(?:'s?|’s)\s", after_low) and _TARGET_NOUN.match(after_low):
            role = "target"  # "Turkey's procurement agency"
        elif kind != "reacted" and _subject_of(low, p, verb_at):
            role = "sanctioning" if kind not in ("evaded",) else "target"
            acting.append(p.name)
        elif any(_subject_of(low, p, v) for v in acts if v != verb_at):
            role = "sanctioning"  # "after Britain and France triggered ..."
            acting.append(p.name)
        elif _ALONGSIDE_BEFORE.search(before) and sanctioning and (same_clause or p.start < verb_at):
            role = "sanctioning"  # "alongside Australia and the United Kingdom"
        elif (
            same_clause
            and p.start - verb_at <= 60
            and not p.demonym
            and not _NOT_TARGET_BEFORE.search(before)
            and not _SAID_AFTER.match(after_low)
            and not re.match(r"^-(?:made|built|origin|designed|produced|manufactured|supplied)\b", after_low)
        ):
            role = "target"  # "froze the assets of two Iranian banks"
        if role == "sanctioning" and p.name not in sanctioning:
            sanctioning.append(p.name)
        elif role == "target" and p.name not in targets:
            targets.append(p.name)
        previous = (p, role)  # a country coordinated with one that has no role has none either
    if acting:
        for name in compounds:
            if name not in acting and name in sanctioning:
                sanctioning.remove(name)
                targets.append(name)
    return sanctioning, [t for t in targets if t not in sanctioning]


def _named_targets(s: SentenceLike, gaz: Gazetteer, verb_at: int) -> list[tuple[str, str, str | None]]:
    """Companies and people the action falls on: (name, kind, their country)."""
    found: list[tuple[str, str, str | None]] = []
    for o in s.organizations:
        if gaz.org_parties.get(o.name.canonical) or o.name.category in ("multilateral_body",):
            continue
        if o.start > verb_at or re.search(
            r"\b(?:on|against|targeting)\s+(?:the\s+)?(?:[\w-]+\s+){0,2}$", s.low[max(0, o.start - 30) : o.start]
        ):
            found.append((o.name.canonical, "organization", gaz.country_names.get(o.name.country or "")))
    for m in _COMPANY.finditer(s.text):
        if m.start() > verb_at and not any(o.start <= m.start() < o.end for o in s.organizations):
            found.append((m.group(1), "organization", None))
    for m in _PERSON.finditer(s.text):
        if m.start(1) > verb_at - 40:
            found.append((m.group(1), "person", None))
    return found


def _regime(s: SentenceLike, gaz: Gazetteer, party: str | None) -> str | None:
    for r in s.regimes:
        return r.name.canonical
    for o in s.organizations:
        if gaz.org_regimes.get(o.name.canonical):
            return gaz.org_regimes[o.name.canonical]
    return gaz.regime_defaults.get(party or "")


def read_sanctions(
    sentences: Sequence[S],
    gaz: Gazetteer,
    candidate: Callable[[S], bool] | None = None,
    has_headline: bool = False,
) -> SanctionFrames:
    """The sanction frames of an article, sentence by sentence. `candidate` is the caller's cheap
    test of a sentence (a sanctions cue, no sports, court or approval sense); a sentence with no
    sanctioning party of its own takes the one of the frame just before it."""
    frames = SanctionFrames()
    named = {m.name.canonical for s in sentences for m in s.countries}
    last_party: tuple[int, list[str]] | None = None
    seen: set[tuple[str, str | None, str | None]] = set()
    standing: list[SanctionAction] = []
    frame_of: list[int] = []  # the sentence of each action
    mentions = 0  # sentences that name a measure, with or without an act
    for index, s in enumerate(sentences):
        if candidate is not None and not candidate(s):
            continue
        low = s.low if len(s.low) == len(s.text) else s.text.lower()
        measures = [(m.start(), m.end()) for m in _MEASURE.finditer(low)] + [(r.start, r.end) for r in s.regimes]
        arms_only = not measures
        mentions += bool(measures)
        measures += [(m.start(), m.end()) for m in _ARMS_RESTRICTION.finditer(low)]
        if not measures:
            continue
        parties = _parties(s, gaz, named)
        found = _action(s.text, low, measures, parties)
        if found is None:
            # No act, but "US sanctions on Iran" still says who holds measures against whom: kept
            # for a story that has frames of its own, never enough to make one.
            sanctioning, targets = _roles(s, parties, len(low), "imposed")
            standing.extend(
                SanctionAction("imposed", party, target, "country" if target else None, _regime(s, gaz, party), s.text)
                for party in sanctioning
                for target in targets or (None,)
            )
            continue
        kind, verb_at, acts = found
        sanctioning, targets = _roles(s, parties, verb_at, kind, acts)
        if kind == "reacted":
            if not sanctioning:
                continue  # a reaction to nobody's measure is no frame
            kind = "imposed"
        if arms_only and not (targets and sanctioning):
            continue  # "Tokyo eased its ban on arms sales" is export policy, not a measure against anyone
        for r in s.regimes:
            issuer = gaz.regime_issuers.get(r.name.canonical)
            if issuer and issuer != "various" and not sanctioning and issuer not in targets:
                sanctioning.append(issuer)
        if not sanctioning and kind != "evaded":
            # "BERLIN — Germany will no longer oppose ..., ending an arms embargo on Riyadh": the
            # sentence's subject acts when no other party does (a usual target rarely does).
            first = next((p for p in parties if p.name not in targets), None)
            if (
                first is not None
                and not first.demonym
                and first.name not in USUAL_TARGETS
                and _SENTENCE_SUBJECT.match(s.text[: first.start])
                and first.start < verb_at
            ):
                sanctioning = [first.name]
        if not sanctioning:
            # "A panel reporting to the UN Security Council said ...": an agency named in the
            # sentence acts for its state or bloc.
            sanctioning = list(dict.fromkeys(p.name for p in parties if p.institution and p.name not in targets))
        if not sanctioning and last_party is not None and index - last_party[0] <= 4:
            sanctioning = [p for p in last_party[1] if p not in targets]
        if not sanctioning and not targets and kind not in ("evaded", "enforced"):
            continue  # no state or bloc acts, none is hit: a court's, regulator's or club's sanction
        if sanctioning:
            last_party = (index, sanctioning)
        named_targets = _named_targets(s, gaz, verb_at)
        for country in (c for _, _, c in named_targets if c):
            if country not in targets and country not in sanctioning:
                targets.append(country)
        regime = None
        all_targets: Sequence[tuple[str | None, str | None]] = [(t, "country") for t in targets] + [
            (name, kind_) for name, kind_, _ in named_targets
        ] or [(None, None)]
        for party in sanctioning or (None,):
            regime = _regime(s, gaz, party)
            for target, target_kind in all_targets:
                key = (kind, party, target)
                if key in seen:
                    continue
                seen.add(key)
                frames.actions.append(SanctionAction(kind, party, target, target_kind, regime, s.text))
                frame_of.append(index)
        frames.sentences.append(index)
    lead = _LEAD_SENTENCES + (1 if has_headline else 0)
    # A state acts, or a case of evading sanctions is reported (enforcing needs its state: a regulator's
    # fine is no sanction).
    with_party = {i for i, a in zip(frame_of, frames.actions, strict=False) if a.sanctioning or a.action == "evaded"}
    # Sanctions run through the story: several frames, one in the lead, or one among several
    # sentences about the measures ("sanctioned tankers", "under US sanctions").
    # A frame with no named party in the lead is enough with a state named elsewhere as the measures'
    # holder ("Yantar is under US and EU sanctions").
    if not with_party and any(a.sanctioning for a in standing):
        with_party = {i for i in frames.sentences if i < lead}
    frames.central = (
        bool(with_party)
        and (
            len(frames.sentences) >= 2 or any(i < lead for i in frames.sentences) or mentions >= _MENTIONS_FOR_ONE_FRAME
        )
        or len(frames.sentences) >= 3
    )
    if frames.central:
        for a in standing:
            if (a.action, a.sanctioning, a.target) not in seen:
                seen.add((a.action, a.sanctioning, a.target))
                frames.actions.append(a)
    return frames


def find_sanction_actions(
    sentences: Sequence[S], gaz: Gazetteer, candidate: Callable[[S], bool] | None = None
) -> list[SanctionAction]:
    """One action per (action, sanctioning party, target), each with its evidence sentence."""
    return read_sanctions(sentences, gaz, candidate).actions
