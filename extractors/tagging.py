"""Tag articles `arms_deal` and `sanctions`, with the sentences and terms that caused each tag,
and extract entities with roles (supplier, recipient, sanctioning, target).

Rules first: every tag can be explained by the evidence it stores, and the tagger runs offline in
well under the time extraction takes. One small learned check, the deal gate (extractors/deal_gate.py),
may veto an article's deal frames (NEWSFLOW_DEAL_GATE). `Tagger` is the replaceable interface; a
change of rules or of the gate bumps `VERSION` so that `newsflow retag` replaces old tags cleanly."""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import ahocorasick

from extractors import deal_frames, deal_gate, gazetteer
from extractors.gazetteer import Mention
from extractors.money import find_money
from extractors.roles import IMPOSE, sanction_roles
from extractors.sanction_frames import read_sanctions
from newsflow.models import Deal, Entity, SanctionAction, Tag

VERSION = "rules-4+gate-1"


_DEAL = re.compile(
    r"\b(sell|sells|selling|sold|sale|sales|buy|buys|buying|bought|purchas\w*|procure\w*|order|orders|ordered|"
    r"contract\w*|deal|deals|deliver\w*|acquir\w*|acquisition|suppl(?:y|ies|ied|ying)|export\w*|import\w*|"
    r"transfer\w*|licen[cs]ed production|co-produc\w*|local production|foreign military sales?|FMS|"
    r"arms package|signed for|take delivery|taken delivery|handover|handed over|cancel\w*|stalled|scrapp\w*|"
    r"receiv\w*|picks?|picked|selects?|selected|sign(?:s|ed|ing)?|inks?|inked|clinch\w*|finalis\w*|finaliz\w*|"
    r"letters? of offer and acceptance|LOA|notified Congress|government-to-government|commission(?:s|ed)|"
    r"inducted|inducts|rolls out|rolled out|pa(?:y|ys|id) for|"
    r"(?:notif(?:y|ies|ied)|inform(?:s|ed)?|tells|told) (?:the )?(?:U\.?S\.? )?(?:Congress|lawmakers)|"
    r"(?:aid|assistance) package|package of [\w-]+ (?:military |security )?(?:aid|assistance)|"
    r"(?:in|of) (?:new |additional |more )?(?:military|security) (?:aid|assistance)|will (?:soon )?provide)\b",
    re.I,
)
# Movement of weapons ("launchers sent to Russia", "tanks reach Ukraine"): an arms transfer only
# when a weapon system or a weapon noun is in the same sentence.
_TRANSFER = re.compile(
    r"\b(sent|send|sends|sending|ship(?:s|ped|ping|ment|ments)?|donat\w*|gift\w*|provid\w*|equip|equips|"
    r"will equip|arriv\w*|reach(?:es|ed)?|seiz\w*|intercept\w*|bound for|handed|hands over|rolled out)\b",
    re.I,
)
_WEAPON_NOUN = re.compile(
    r"\b(missiles?|rockets?|rocket launchers?|launchers?|drones?|tanks?|howitzers?|guns|artillery|shells|munitions|"
    r"ammunition|fighter jets?|warplanes?|combat aircraft|helicopters?|interceptors?|air[- ]defen[cs]e|weapons?|arms)\b",
    re.I,
)
# Agreements that are not arms deals, whatever else the sentence mentions.
_OTHER_DEALS = re.compile(
    r"\b(nuclear|trade|free[- ]trade|peace|ceasefire|grain|climate|gas|energy|debt|tax|"
    r"budget|coalition|plea|settlement)\s+(deals?|agreements?|accords?)\b",
    re.I,
)
_MILITARY = re.compile(
    r"\b(fighter|fighters|jets?|aircraft|helicopters?|drones?|UAVs?|missiles?|air[- ]defen[cs]e|tanks?|"
    r"howitzers?|artillery|warships?|frigates?|submarines?|corvettes?|destroyers?|armou?red|rocket launchers?|"
    r"munitions|ammunition|shells|weapons?|arms|military equipment|defen[cs]e ministry|ministry of defen[cs]e|"
    r"air force|navy|army|military|interceptors?|radars?|rifles|systems|launchers?|rockets?|guns|warplanes?)\b",
    re.I,
)
_SANCTION = re.compile(
    r"\b(sanction\w*|asset freezes?|froze\w*|freez\w* (?:of )?assets|embargo\w*|blacklist\w*|designat\w*|"
    r"(?:export[- ])?control list|revok\w* (?:a |the |its )?licen[cs]es?|general licen[cs]e|entry bans?|"
    r"(?:bar(?:s|red)?|ban(?:s|ned)?) (?:\w+ ){0,3}(?:officials|nationals|citizens|executives|lawmakers)|visa bans?|"
    r"restrictive measures|export controls?|export ban|travel bans?|price cap|secondary tariffs|"
    r"delist\w*|waiver|evad\w*|evasion|(?:unreliable )?entity list)\b",
    re.I,
)
_STRONG_SANCTION = re.compile(
    r"\b(sanction\w*|asset freezes?|frozen (?:[\w-]+ ){0,3}assets|free(?:ze|zes|zing) (?:the )?assets|"
    r"froze (?:the )?assets|embargo\w*|blacklist\w*|restrictive measures|(?:export[- ])?control list|"
    r"revok\w* (?:a |the |its )?licen[cs]es?|entry bans?|visa bans?|"
    r"(?:bar(?:s|red)?|ban(?:s|ned)?) (?:\w+ ){0,3}(?:officials|nationals|citizens|executives|lawmakers)|"
    r"(?:unreliable )?entity list)\b",
    re.I,
)
_SPORTS = re.compile(
    r"\b(NFL|NBA|NHL|MLB|NCAA|FIFA|UEFA|league|season|coach|quarterback|touchdown|playoffs?|match|"
    r"tournament|athletes?|championship|olympic\w*|federation|club|referee|players?|fans|stadium|"
    r"scored|goal|game|games|Patriots|Hornets|throw|thrower|steak|restaurant|menu|chef|UFC|MMA|bouts?|boxing|"
    r"boxers?|knockout|heavyweight|lightweight|middleweight|welterweight|cyclists?|doping|anti-doping|"
    r"testing agency|Tour de France|athletic commission|racing|jockey)\b",
    re.I,
)
# Bodies whose "sanctions" are a sport's discipline. Narrower than _SPORTS: "players", "game" and
# "goal" are common in sanctions prose ("market players", "the goal of the measures").
_SPORTS_BODY = re.compile(
    r"\b(nfl|nba|nhl|mlb|ncaa|fifa|uefa|ioc|wada|league|tournament|championship|olympic\w*|(?:football|athletics|"
    r"sports?|boxing|cycling|tennis|chess) (?:federation|association|body|union)|club|referee|coach|doping|anti-doping|"
    r"athletic commission|qualifier|ufc|mma|bouts?|jockey|racing)\b"
)
# "sanctioned by the European Commission" is a state act, whatever _SANCTION_AS_APPROVAL says of commissions.
_STATE_BODY = re.compile(
    r"\b(european commission|council of the (?:eu|european union)|security council|"
    r"state department|treasury|commerce department|foreign ministry|government)\b"
)
_COURT = re.compile(r"\b(judge|court|lawyer|attorney|counsel|disciplinary|bar association)\b", re.I)
_NOT_ARMS = re.compile(
    r"\b(arms race|merger|takeover|shareholders?|stake in|shares|antitrust|acquisition of|acquire[sd]? (?:the |a )?"
    r"\w+(?: \w+)? (?:division|unit|business|company|group|maker|firm)|weather satellite|launch(ed)? a satellite|"
    r"parade|arms control|gun control|firearms? dealers?|airlines?|airliners?|carrier's|national carrier|flag carrier|passenger|narrowbod\w*|"
    r"widebod\w*|A3[2-8]\dneo|A350|Boeing 7[3-8]7|firefight\w* (?:planes|aircraft)|water[- ]?bomb\w*|"
    r"gun dealers?|gun shops?|gun sales|background checks?|hunting rifles?|civilian firearms|robotic arms?|"
    r"robot arms?|industrial arms?|coat of arms|tank tops?|think tanks?|fish tanks?|septic tanks?|fuel tanks?|"
    r"gas tanks?|launch\w* (?:\w+ ){0,4}satellites?|launch services|launch contract|non-military|civilian sectors?)\b",
    re.I,
)
# "sanctioned Rs 1,200 crore" or "sanctions a loan": approval of money, not a restrictive measure.
_SANCTION_AS_APPROVAL = re.compile(
    r"\bsanction(?:s|ed|ing)?\s+(?:an?\s+|the\s+)?(?:additional\s+|new\s+)?(?:Rs\.?|INR|₹|\$|€|£|loans?|grants?|"
    r"funds?|funding|budget|projects?|plans?|construction|recruitment|posts)|\bsanctioned (?:strength|posts|"
    r"budget|amount|capacity|limit|level|cost)|\bsanctioned by (?:the )?[\w ]{0,40}?(?:commission|board|"
    r"authority|body|association|federation|league|council of)|\bsanction(?:s|ed)? (?:a |the )?[\w -]{0,30}?"
    r"(?:fight|bout|event|race|match|tournament|game|rally|concert|march)\b",
    re.I,
)
_EVASION = re.compile(r"\b(breach\w*|violat\w*|evad\w*|evasion|circumvent\w*|smuggl\w*|divert\w*)\b", re.I)
_VALUE_CONTEXT = re.compile(
    r"\b(deal|contract|package|order|agreement|sale|purchase|worth|valued|value|cost|priced)\b", re.I
)
_EXPORT_CONTROL = re.compile(
    r"\bexport(?:s)?[- ](?:controls?|bans?|licen[cs]\w*|restrictions?)\b|"
    r"\bban(?:s|ned)?\s+(?:on\s+)?(?:all\s+)?(?:[\w-]+\s+){0,4}?(?:exports?|imports?|trade|sales|transfers?)\b"
    r"(?:\s+(?:of|with|to)\b)?",
    re.I,
)
_TARIFF = re.compile(r"\btariffs?\b", re.I)
# Trade in parts, chips or oil that feeds a military is a sanctions story, not an arms deal,
# unless a weapon system or a contract is named.
_COMPONENTS = re.compile(
    r"\b(components?|parts|dual-use|machine tools|machin\w+ cent\w+|machinery|electronics|microelectronics|chips|"
    r"semiconductors|technology|goods|oil|crude|revenue|financing|payments?)\b",
    re.I,
)
_DEAL_NOUN = re.compile(
    r"\b(contracts?|orders?|deals?|agreements?|(?:arms|weapons|military|aid|defen[cs]e) package|"
    r"sale of|purchase of|procurement|(?:arms|weapons) (?:purchases|sales|deals?|imports|exports))\b",
    re.I,
)
# A headline about one company buying another: corporate M&A, whatever the buyer makes.
_CORPORATE_DEAL = re.compile(
    r"\b(acquir\w*|acquisition|buys?|bought|purchase|merge\w*|merger|takeover|stake|bid for)\b.{0,60}\b("
    r"maker|makers|firm|company|group|business|unit|division|shipbuilder|shipyard|Aerospace|Corp|Inc|plc|AG|"
    r"Holdings|Industries|Technologies|start-?up)\b",
    re.I,
)

# Verbs whose subject gives and whose object (after "to") receives; and the reverse.


def _fold(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """The same pattern for lower-cased text: several times faster than re.IGNORECASE."""
    return re.compile(pattern.pattern.lower(), pattern.flags & ~re.IGNORECASE)


# Boolean checks run on lower-cased sentences (`_Sentence.low`); positions are never taken from them.
(
    _DEAL,
    _TRANSFER,
    _WEAPON_NOUN,
    _OTHER_DEALS,
    _MILITARY,
    _SANCTION,
    _STRONG_SANCTION,
    _SPORTS,
    _COURT,
    _NOT_ARMS,
    _SANCTION_AS_APPROVAL,
    _EVASION,
    _VALUE_CONTEXT,
    _EXPORT_CONTROL,
    _TARIFF,
    _COMPONENTS,
    _DEAL_NOUN,
    _CORPORATE_DEAL,
) = map(
    _fold,
    (
        _DEAL,
        _TRANSFER,
        _WEAPON_NOUN,
        _OTHER_DEALS,
        _MILITARY,
        _SANCTION,
        _STRONG_SANCTION,
        _SPORTS,
        _COURT,
        _NOT_ARMS,
        _SANCTION_AS_APPROVAL,
        _EVASION,
        _VALUE_CONTEXT,
        _EXPORT_CONTROL,
        _TARIFF,
        _COMPONENTS,
        _DEAL_NOUN,
        _CORPORATE_DEAL,
    ),
)
_IMPOSE = _fold(IMPOSE)
_SPECIFIC_WEAPON = re.compile(_WEAPON_NOUN.pattern.replace("|weapons?|arms)", ")"))
_EMBARGO = re.compile(r"\bembargo")

# A sentence is examined for a tag only if one of these fragments occurs in it: one Aho-Corasick
# pass over the article replaces dozens of regular-expression scans of sentences that cannot match.
# Each list must cover every way the corresponding patterns above can match.
_CUE_STEMS = {
    "deal": (
        "sell",
        "sold",
        "sale",
        "buy",
        "bought",
        "purchas",
        "procur",
        "order",
        "contract",
        "deal",
        "deliver",
        "acquir",
        "acquisition",
        "suppl",
        "export",
        "import",
        "transfer",
        "licensed production",
        "licenced production",
        "co-produc",
        "local production",
        "foreign military sale",
        "fms",
        "package",
        "signed for",
        "delivery",
        "handover",
        "handed over",
        "cancel",
        "stalled",
        "scrapp",
        "receiv",
        "pick",
        "select",
        "sign",
        "ink",
        "clinch",
        "finalis",
        "finaliz",
        "letter of offer",
        "letters of offer",
        "loa",
        "notified congress",
        "notif",
        "inform",
        "tells",
        "told",
        "assistance",
        "military aid",
        "provide",
        "government-to-government",
        "commission",
        "induct",
        "rolls out",
        "rolled out",
        "pay",
        "paid",
    ),
    "transfer": (
        "sent",
        "send",
        "ship",
        "donat",
        "gift",
        "provid",
        "equip",
        "arriv",
        "reach",
        "seiz",
        "intercept",
        "bound for",
        "hand",
        "rolled out",
    ),
    "sanction": (
        "sanction",
        "freez",
        "froze",
        "frozen",
        "embargo",
        "blacklist",
        "designat",
        "restrictive",
        "countermeasure",
        "restrict",
        "suspen",
        "halt",
        "block",
        "visa",
        "travel ban",
        "control",
        "export ban",
        "revok",
        "licen",
        "bar",
        "ban",
        "price cap",
        "tariff",
        "delist",
        "waiver",
        "evad",
        "evasion",
        "entity list",
        "asset",
    ),
}


def _cue_automaton() -> ahocorasick.Automaton:
    kinds: dict[str, set[str]] = {}
    for cue, stems in _CUE_STEMS.items():
        for stem in stems:
            kinds.setdefault(stem, set()).add(cue)
    automaton = ahocorasick.Automaton()
    for stem, cues in kinds.items():
        automaton.add_word(stem, (len(stem), frozenset(cues)))
    automaton.make_automaton()
    return automaton


_CUES = _cue_automaton()


@dataclass
class TagResult:
    tags: list[Tag] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    deals: list[Deal] = field(default_factory=list)
    sanction_actions: list[SanctionAction] = field(default_factory=list)


@dataclass
class _Sentence:
    text: str
    weapons: list[Mention]
    countries: list[Mention]
    regimes: list[Mention]
    organizations: list[Mention]
    low: str = ""
    cues: frozenset[str] = frozenset({"deal", "transfer", "sanction"})


def _parts_of_a_system(s: _Sentence) -> bool:
    """ "F-35 parts", "Patriot components": parts named by their weapon system are arms."""
    return any(
        re.match(r"\s+(?:spare\s+)?(?:parts|components|spares)\b", s.text[w.end : w.end + 20], re.I) for w in s.weapons
    )


MAX_TAGGED_CHARS = 100_000  # about 15,000 words: longer than any news article
_BREAK = re.compile(r"[.!?][\"'”’)]*\s+|\n+")
_OPENERS = "\"'“‘("


# Abbreviations a sentence does not end at: titles always, months before a day ("Dec. 30"), and
# "U.S."/"U.K." before a name ("the U.S. Ground-based Midcourse Defense") unless a new sentence
# plainly starts ("… to the U.S. The talks").
_TITLE = re.compile(r"(?:^|[\s(])(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen|Lt|Col|Maj|Capt|Sgt|Adm|Cmdr|Brig|St|Prof|Amb)\.$")
_MONTH = re.compile(r"(?:^|\s)(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.$")
_COUNTRY_ABBREVIATION = re.compile(r"(?:^|[\s(])(?:U\.S|U\.K|U\.N|U\.A\.E)\.$")
_SENTENCE_START = re.compile(
    r"(?:The|A|An|It|Its|He|She|They|We|I|In|On|At|But|And|This|That|These|Those|His|Her|"
    r"Their|There|If|When|While|As|After|Before|Officials?|Some|No|Now|So|Yet)\b"
)


def _abbreviation_continues(text: str, dot: int, nxt: int) -> bool:
    before = text[max(0, dot - 12) : dot + 1]
    if _TITLE.search(before):
        return True
    if _MONTH.search(before):
        return text[nxt : nxt + 1].isdigit()
    return (
        bool(_COUNTRY_ABBREVIATION.search(before))
        and text[nxt : nxt + 1].isupper()
        and not _SENTENCE_START.match(text, nxt)
    )


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, whitespace trimmed: a break is a newline, or end punctuation
    and space before a capital, a digit or an opening quote."""
    spans, start = [], 0
    length = len(text)
    for separator in list(_BREAK.finditer(text)) + [None]:
        if separator is not None and text[separator.start()] != "\n":
            nxt = separator.end()
            if nxt < length and text[nxt] in _OPENERS:
                nxt += 1
            if nxt >= length or not (text[nxt].isupper() or text[nxt].isdigit()):
                continue
            if text[separator.start()] == "." and _abbreviation_continues(text, separator.start(), nxt):
                continue
        end = (
            separator.start() + 1
            if separator is not None and text[separator.start()] != "\n"
            else (separator.start() if separator is not None else length)
        )
        chunk = text[start:end]
        if chunk.strip():
            left = start + len(chunk) - len(chunk.lstrip())
            spans.extend(_capped(text, left, start + len(chunk.rstrip())))
        if separator is not None:
            start = separator.end()
    return spans


MAX_SENTENCE_CHARS = 800  # far longer than a real sentence; a run-on "sentence" of junk is cut up


def _capped(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A span cut at whitespace into pieces of at most MAX_SENTENCE_CHARS, so the per-sentence
    rules, some of which look at every pair of mentions, never see a page-long "sentence"."""
    pieces = []
    while end - start > MAX_SENTENCE_CHARS:
        cut = text.rfind(" ", start + MAX_SENTENCE_CHARS // 2, start + MAX_SENTENCE_CHARS)
        cut = cut if cut > start else start + MAX_SENTENCE_CHARS
        pieces.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        pieces.append((start, end))
    return pieces


def _bucket(mentions: list[Mention], spans: list[tuple[int, int]]) -> list[list[Mention]]:
    """Split whole-text mentions by sentence, with offsets made relative to their sentence."""
    buckets: list[list[Mention]] = [[] for _ in spans]
    starts = [start for start, _ in spans]
    for m in mentions:
        i = bisect.bisect_right(starts, m.start) - 1
        if i >= 0 and m.end <= spans[i][1]:
            offset = spans[i][0]
            buckets[i].append(Mention(m.name, m.surface, m.start - offset, m.end - offset))
    return buckets


class Tagger:
    version = VERSION

    def __init__(self, gaz: gazetteer.Gazetteer, gate: deal_gate.DealGate | None = None):
        self.gaz = gaz
        self.gate = gate
        if gate is None:  # the rules alone tag differently: keep their tags apart from the gated ones
            self.version = VERSION.split("+")[0]

    @classmethod
    def default(cls) -> Tagger:
        from newsflow.settings import Settings

        return cls(gazetteer.load(), deal_gate.shipped() if Settings().deal_gate else None)

    def tag(self, title: str, text: str, published_at: datetime | None = None) -> TagResult:
        # The evidence of a news story sits in its first pages; a text longer than this (a data dump,
        # a hostile page) would otherwise hold a batch for minutes. The stored text is not cut.
        text = text[:MAX_TAGGED_CHARS]
        sentences = self._read_all(f"{title}.\n{text}" if title else text)
        result = TagResult()
        if not sentences:
            return result
        candidates = self.arms_candidates(title, sentences)
        # Precision first: arms vocabulary makes a tag only when it forms a deal frame, and
        # sanctions vocabulary only when it forms a sanction frame central to the story.
        result.deals, arms_evidence = deal_frames.find_deals(candidates, sentences, self.gaz, published_at)
        # The gate reads the candidate sentences, not the frame's: it was trained on them, over
        # look-alikes the frames reject too (extractors/data/deal_gate.md).
        if (
            (result.deals or arms_evidence)
            and self.gate is not None
            and not self.gate.accepts(deal_gate.evidence_of(title, [s.text for s in candidates], result.deals))
        ):
            result.deals, arms_evidence = [], []  # no arms_deal tag, and no supplier/recipient roles
        frames = read_sanctions(sentences, self.gaz, self._is_sanctions_sentence, has_headline=bool(title))
        result.sanction_actions = frames.actions if frames.central else []
        sanction_evidence = [sentences[i] for i in frames.sentences] if frames.central else []
        if arms_evidence:
            result.tags.append(self._tag("arms_deal", arms_evidence, _DEAL))
        if sanction_evidence:
            result.tags.append(self._tag("sanctions", sanction_evidence, _SANCTION))
        result.entities = self._entities(
            sentences, result.deals, sanction_evidence, published_at, result.sanction_actions
        )
        return result

    def arms_candidates(self, title: str, sentences: list[_Sentence]) -> list[_Sentence]:
        """The sentences that may report an arms transfer, before the deal frames judge them."""
        title_low = (title or "").lower()
        if title and _CORPORATE_DEAL.search(title_low) and not sentences[0].weapons:
            return []
        candidates = [s for s in sentences if self._is_arms_sentence(s)]
        if _EVASION.search(title_low) and not self._is_arms_sentence(sentences[0]):
            # An evasion case buys "items" and "goods": only a named system or contract is a deal.
            candidates = [s for s in candidates if s.weapons or _DEAL_NOUN.search(s.low)]
        return candidates

    def read(self, title: str, text: str) -> list[_Sentence]:
        """The sentences `tag` reads: the headline first, the text cut as `tag` cuts it."""
        text = text[:MAX_TAGGED_CHARS]
        return self._read_all(f"{title}.\n{text}" if title else text)

    def _read_all(self, full: str) -> list[_Sentence]:
        """Read every sentence: four gazetteer passes and one cue pass over the whole text."""
        spans = sentence_spans(full)
        found = [
            _bucket(matcher.find(full), spans)
            for matcher in (self.gaz.weapons, self.gaz.countries, self.gaz.regimes, self.gaz.organizations)
        ]
        low = full.lower()
        cues: list[set[str]] = [set() for _ in spans]
        if len(low) == len(full):
            starts = [start for start, _ in spans]
            for end, (size, kinds) in _CUES.iter(low):
                start = end - size + 1
                if start and low[start - 1].isalnum():
                    continue  # stems start a word: "ink" is not in "think"
                i = bisect.bisect_right(starts, start) - 1
                if i >= 0:
                    cues[i] |= kinds
        else:  # lower-casing changed the length (rare scripts): examine every sentence
            cues = [set(_CUE_STEMS) for _ in spans]
        sentences: list[_Sentence] = []
        for i, (start, end) in enumerate(spans):
            sentences.append(
                self._read(
                    full[start:end], sentences[-1] if sentences else None, [f[i] for f in found], frozenset(cues[i])
                )
            )
        return sentences

    def _read(
        self,
        sentence: str,
        previous: _Sentence | None = None,
        found: list[list[Mention]] | None = None,
        cues: frozenset[str] = frozenset(_CUE_STEMS),
    ) -> _Sentence:
        if found is None:
            found = [
                m.find(sentence)
                for m in (self.gaz.weapons, self.gaz.countries, self.gaz.regimes, self.gaz.organizations)
            ]
        found_weapons, found_countries, found_regimes, found_organizations = found
        low = sentence.lower()
        military = None
        if any(m.name.ambiguous for m in found_weapons + found_organizations):
            military = bool(_MILITARY.search(low)) and not _SPORTS.search(low)
        weapons = [m for m in found_weapons if not m.name.ambiguous or military]
        countries = [m for m in found_countries if not m.name.ambiguous or m.start > 0]
        organizations = [m for m in found_organizations if not m.name.ambiguous or military or _SANCTION.search(low)]
        countries = [
            c
            for c in countries
            if not any(o.start <= c.start and c.end <= o.end for o in organizations)
            and not sentence.startswith("$", c.end)
        ]  # "US$1.3 billion" is money, not a party
        nearby = {m.name.canonical for m in countries} | {m.name.country for m in organizations}
        if previous is not None:
            nearby |= {m.name.canonical for m in previous.countries} | {m.name.country for m in previous.organizations}
        regimes = [
            m
            for m in found_regimes
            if not m.name.ambiguous
            or m.name.country in nearby
            or self.gaz.country_names.get(m.name.country or "") in nearby
            or any(self.gaz.country_names.get(c or "") == m.name.country for c in nearby)
        ]
        return _Sentence(sentence, weapons, countries, regimes, organizations, low, cues)

    @staticmethod
    def _is_arms_sentence(s: _Sentence) -> bool:
        if not s.cues & {"deal", "transfer"} or not (s.weapons or s.countries or s.organizations):
            return False  # cheap tests first: most sentences end here
        low = s.low
        if not s.weapons and not _MILITARY.search(low):
            return False
        if _NOT_ARMS.search(low):
            return False
        if (_EXPORT_CONTROL.search(low) or _EMBARGO.search(low)) and not s.weapons and not _DEAL_NOUN.search(low):
            return False  # "a ban on all arms trade, covering imports and exports" is an embargo
        stripped = _OTHER_DEALS.sub(" ", _EXPORT_CONTROL.sub(" ", low))
        if not _DEAL.search(stripped):
            # Weapons on the move ("launchers sent to Russia") are a transfer too.
            # Generic "weapons" or traded parts are not enough: cargo checks and component
            # smuggling are sanctions stories.
            return (
                bool(_TRANSFER.search(stripped))
                and bool(s.weapons or _SPECIFIC_WEAPON.search(stripped))
                and (not _COMPONENTS.search(stripped) or _parts_of_a_system(s))
                and not _SPORTS.search(low)
                and bool(s.countries or s.organizations)
            )
        if _SPORTS.search(low) and not s.weapons:
            return False
        if (
            not s.weapons
            and not _DEAL_NOUN.search(low)
            and (_COMPONENTS.search(low) or _STRONG_SANCTION.search(low) or _EVASION.search(low))
        ):
            return False
        military = bool(s.weapons) or bool(_MILITARY.search(low))
        # An arms deal involves a foreign party or a named system: "the army ordered boots" is not one.
        return military and (
            bool(s.weapons) or len({m.name.canonical for m in s.countries}) >= 1 or bool(s.organizations)
        )

    @staticmethod
    def _is_sanctions_sentence(s: _Sentence) -> bool:
        if "sanction" not in s.cues and not s.regimes:
            return False
        # A cheap screen; whether a state or bloc acts on a measure is the sanction frame's question
        # (extractors/sanction_frames.py). These senses of the words are never sanctions.
        low = s.low
        if (_SANCTION_AS_APPROVAL.search(low) and not _STATE_BODY.search(low)) or (
            _SPORTS_BODY.search(low) and not s.regimes
        ):
            return False
        if _COURT.search(low) and not (_EVASION.search(low) or s.regimes):
            return False
        return not (_TARIFF.search(low) and not _STRONG_SANCTION.search(low))

    @staticmethod
    def _tag(tag: str, evidence: list[_Sentence], cue: re.Pattern[str]) -> Tag:
        terms: list[str] = []
        for s in evidence:
            terms.extend(m.group(0) for m in cue.finditer(s.low))
            terms.extend(m.name.canonical for m in s.weapons + s.regimes)
        unique_terms = list(dict.fromkeys(terms))
        score = round(min(1.0, 0.55 + 0.15 * len(evidence) + 0.05 * len(unique_terms)), 3)
        quoted = " … ".join(s.text for s in evidence[:3])
        return Tag(tag, score, f"{quoted} [terms: {', '.join(unique_terms[:12])}]")

    def _entities(
        self,
        sentences: list[_Sentence],
        deals: list[Deal],
        sanctions: list[_Sentence],
        published_at: datetime | None,
        actions: Sequence[SanctionAction] = (),
    ) -> list[Entity]:
        entities: dict[tuple[str, str, str | None, float | None], Entity] = {}

        def put(entity: Entity) -> None:
            entities.setdefault((entity.kind, entity.name, entity.role, entity.value_usd), entity)

        in_deal = {system.name for deal in deals for system in deal.systems}
        for s in sentences:
            for m in s.weapons:
                put(
                    Entity(
                        "weapon_system",
                        m.name.canonical,
                        None,
                        None,
                        m.surface,
                        m.name.category,
                        m.name.canonical in in_deal
                        or deal_frames.article_spelling(m.name.canonical, m.surface) in in_deal,
                    )
                )
            for m in s.regimes:
                put(Entity("regime", m.name.canonical, None, None, m.surface))
            for m in s.organizations:
                put(Entity("organization", m.name.canonical, None, None, m.surface, m.name.category))
            for m in s.countries:
                put(Entity("country", m.name.canonical, None, None, m.surface))
        for deal in deals:  # supplier and recipient roles are exactly the deals' parties
            for system in deal.systems:
                put(Entity("weapon_system", system.name, None, None, None, system.category, True))
            for role, names in (("supplier", deal.supplier), ("recipient", deal.recipient)):
                for name in names:
                    put(Entity("country", name, role, None, None))
            for value in ([deal.value_usd] if deal.value_usd else []) + list(deal.amounts_usd):
                put(Entity("money", f"{value:.0f} USD", None, value, None))
        if sanctions:
            for name, role in sanction_roles(actions):
                put(Entity("country", name, role, None, None))
                default = (self.gaz.regime_defaults if role == "sanctioning" else self.gaz.regime_target_defaults).get(
                    name
                )
                if default:
                    put(Entity("regime", default, None, None, None))
            for s in sentences:  # "OFAC said …" anywhere in a sanctions story names the SDN list
                for m in s.organizations:
                    regime = self.gaz.org_regimes.get(m.name.canonical)
                    if regime:
                        put(Entity("regime", regime, None, None, m.surface))
        for regime in [e.name for e in entities.values() if e.kind == "regime"]:
            for implied in self.gaz.regime_implies.get(regime, []):
                put(Entity("regime", implied, None, None, None))
        for s in sanctions:  # amounts frozen, fined or paid in the sanctions sentences
            if _VALUE_CONTEXT.search(s.low) or "frozen" in s.low or "froze" in s.low:
                for money in find_money(s.text, published_at):
                    if money.value_usd >= 100_000:
                        put(Entity("money", f"{money.value_usd:.0f} USD", None, money.value_usd, money.text))
        # A country with a role is the same mention group as the bare country: keep the role.
        with_role = {e.name for e in entities.values() if e.kind == "country" and e.role}
        return [e for e in entities.values() if not (e.kind == "country" and e.role is None and e.name in with_role)]
