"""Tag articles `arms_deal` and `sanctions`, with the sentences and terms that caused each tag,
and extract entities with roles (supplier, recipient, sanctioning, target).

Rules, not a model: every tag can be explained by the evidence it stores, and the tagger runs
offline in well under the time extraction takes. `Tagger` is the replaceable interface; a
change of rules bumps `VERSION` so that `newsflow retag` replaces old tags cleanly."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from extractors import gazetteer
from extractors.gazetteer import Mention
from extractors.money import find_money
from newsflow.models import Entity, Tag

VERSION = "rules-1"

_SENTENCE = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9])|\n+")

_DEAL = re.compile(
    r"\b(sell|sells|selling|sold|sale|sales|buy|buys|buying|bought|purchas\w*|procure\w*|order|orders|ordered|"
    r"contract\w*|deal|deals|deliver\w*|acquir\w*|acquisition|suppl(?:y|ies|ied|ying)|export\w*|import\w*|"
    r"transfer\w*|licen[cs]ed production|co-produc\w*|local production|foreign military sales?|FMS|"
    r"arms package|signed for|take delivery|handover|handed over|cancel\w*|stalled|scrapp\w*)\b", re.I)
_MILITARY = re.compile(
    r"\b(fighter|fighters|jets?|aircraft|helicopters?|drones?|UAVs?|missiles?|air[- ]defen[cs]e|tanks?|"
    r"howitzers?|artillery|warships?|frigates?|submarines?|corvettes?|destroyers?|armou?red|rocket launchers?|"
    r"munitions|ammunition|shells|weapons?|arms|military equipment|defen[cs]e ministry|ministry of defen[cs]e|"
    r"air force|navy|army|military|interceptors?|radars?|rifles|systems)\b", re.I)
_SANCTION = re.compile(
    r"\b(sanction\w*|asset freezes?|froze\w*|freez\w* (?:of )?assets|embargo\w*|blacklist\w*|designat\w*|"
    r"restrictive measures|export controls?|export ban|travel bans?|price cap|secondary tariffs|"
    r"delist\w*|waiver|evad\w*|evasion)\b", re.I)
_STRONG_SANCTION = re.compile(r"\b(sanction\w*|asset freezes?|embargo\w*|blacklist\w*|restrictive measures)\b", re.I)
_SPORTS = re.compile(
    r"\b(NFL|NBA|NHL|MLB|NCAA|FIFA|UEFA|league|season|coach|quarterback|touchdown|playoffs?|match|"
    r"tournament|athletes?|championship|olympic\w*|federation|club|referee|players?|fans|stadium|"
    r"scored|goal|game|games|Patriots|Hornets|throw|thrower|steak|restaurant|menu|chef)\b", re.I)
_COURT = re.compile(r"\b(judge|court|lawyer|attorney|counsel|disciplinary|bar association)\b", re.I)
_NOT_ARMS = re.compile(r"\b(arms race|merger|takeover|shareholders?|stake in|shares|antitrust|"
                       r"weather satellite|launch(ed)? a satellite|parade|arms control|gun control|firearms? dealers?)\b", re.I)
_TARIFF = re.compile(r"\btariffs?\b", re.I)

# Verbs whose subject gives and whose object (after "to") receives; and the reverse.
_GIVE = re.compile(r"\b(sell|sells|sold|selling|deliver\w*|suppl(?:y|ies|ied|ying)|export\w*|transfer\w*|"
                   r"ship\w*|provid\w*|approv\w*|offer\w*|hand\w* over|send|sends|sent)\b", re.I)
_TAKE = re.compile(r"\b(buy|buys|bought|buying|purchas\w*|order\w*|acquir\w*|procur\w*|receiv\w*|"
                   r"signed|sign|signs|import\w*|took delivery|take delivery|inducted|obtain\w*)\b", re.I)
_ACTIVE_IMPOSE = re.compile(
    r"\b(?<!was )(?<!were )(?<!been )(imposed|imposes|impose|sanctioned|designated|designates|blacklisted|"
    r"froze|freezes|added|adds|slapped|threatened|threatens|targeted|targets|penali[sz]ed|banned|restricted|"
    r"extended|renewed|waived|lifted|expanded|announced)\b(?!\s+(?:on|against)\s+\w+\s+by)", re.I)
_IMPOSE = re.compile(r"\b(sanction\w*|impos\w*|designat\w*|blacklist\w*|froze|freez\w*|add\w* .{0,30}Entity List|"
                     r"penali[sz]\w*|threaten\w*|target\w*|slapp?\w*|banned|restrict\w*|extend\w*|renew\w*|"
                     r"waive\w*|lift\w*)\b", re.I)


@dataclass
class TagResult:
    tags: list[Tag] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)


@dataclass
class _Sentence:
    text: str
    weapons: list[Mention]
    countries: list[Mention]
    regimes: list[Mention]
    organizations: list[Mention]


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s and s.strip()]


class Tagger:
    version = VERSION

    def __init__(self, gaz: gazetteer.Gazetteer):
        self.gaz = gaz

    @classmethod
    def default(cls) -> Tagger:
        return cls(gazetteer.load())

    def tag(self, title: str, text: str, published_at: datetime | None = None) -> TagResult:
        sentences = [self._read(s) for s in split_sentences(f"{title}.\n{text}" if title else text)]
        result = TagResult()
        arms_evidence = [s for s in sentences if self._is_arms_sentence(s)]
        sanction_evidence = [s for s in sentences if self._is_sanctions_sentence(s)]
        if arms_evidence:
            result.tags.append(self._tag("arms_deal", arms_evidence, _DEAL))
        if sanction_evidence:
            result.tags.append(self._tag("sanctions", sanction_evidence, _SANCTION))
        result.entities = self._entities(sentences, arms_evidence, sanction_evidence, published_at)
        return result

    def _read(self, sentence: str) -> _Sentence:
        weapons = [m for m in self.gaz.weapons.find(sentence)
                   if not m.name.ambiguous or (_MILITARY.search(sentence) and not _SPORTS.search(sentence))]
        countries = [m for m in self.gaz.countries.find(sentence)
                     if not m.name.ambiguous or m.start > 0]
        return _Sentence(sentence, weapons, countries, self.gaz.regimes.find(sentence),
                         self.gaz.organizations.find(sentence))

    @staticmethod
    def _is_arms_sentence(s: _Sentence) -> bool:
        if not _DEAL.search(s.text) or _NOT_ARMS.search(s.text):
            return False
        if _SPORTS.search(s.text) and not s.weapons:
            return False
        military = bool(s.weapons) or bool(_MILITARY.search(s.text))
        # An arms deal involves a foreign party or a named system: "the army ordered boots" is not one.
        return military and (bool(s.weapons) or len({m.name.canonical for m in s.countries}) >= 1 or bool(s.organizations))

    @staticmethod
    def _is_sanctions_sentence(s: _Sentence) -> bool:
        if s.regimes and _SANCTION.search(s.text):
            return True
        if not _STRONG_SANCTION.search(s.text):
            return bool(s.regimes) and bool(_IMPOSE.search(s.text)) and not _TARIFF.search(s.text)
        if _SPORTS.search(s.text) or _COURT.search(s.text):
            return False
        if re.search(r"\bsanctioned by (the )?(league|federation|club|body|association|NCAA|FIFA)\b", s.text, re.I):
            return False
        # A state or body must be involved: a country, a regime or an authority.
        return bool(s.countries or s.regimes or s.organizations)

    @staticmethod
    def _tag(tag: str, evidence: list[_Sentence], cue: re.Pattern[str]) -> Tag:
        terms: list[str] = []
        for s in evidence:
            terms.extend(m.group(0).lower() for m in cue.finditer(s.text))
            terms.extend(m.name.canonical for m in s.weapons + s.regimes)
        unique_terms = list(dict.fromkeys(terms))
        score = round(min(1.0, 0.55 + 0.15 * len(evidence) + 0.05 * len(unique_terms)), 3)
        quoted = " … ".join(s.text for s in evidence[:3])
        return Tag(tag, score, f"{quoted} [terms: {', '.join(unique_terms[:12])}]")

    def _entities(self, sentences: list[_Sentence], arms: list[_Sentence], sanctions: list[_Sentence],
                  published_at: datetime | None) -> list[Entity]:
        entities: dict[tuple, Entity] = {}

        def put(entity: Entity) -> None:
            entities.setdefault((entity.kind, entity.name, entity.role, entity.value_usd), entity)

        for s in sentences:
            for m in s.weapons:
                put(Entity("weapon_system", m.name.canonical, None, None, m.surface))
            for m in s.regimes:
                put(Entity("regime", m.name.canonical, None, None, m.surface))
            for m in s.organizations:
                put(Entity("organization", m.name.canonical, None, None, m.surface))
            for m in s.countries:
                put(Entity("country", m.name.canonical, None, None, m.surface))
        roles = self._arms_roles(arms) if arms else {}
        for name, role in roles.items():
            put(Entity("country", name, role, None, None))
        if sanctions:
            for name, role in self._sanction_roles(sanctions).items():
                put(Entity("country", name, role, None, None))
        for s in arms:
            for money in find_money(s.text, published_at):
                if money.value_usd >= 100_000:
                    put(Entity("money", f"{money.value_usd:.0f} USD", None, money.value_usd, money.text))
        # A country with a role is the same mention group as the bare country: keep the role.
        with_role = {e.name for e in entities.values() if e.kind == "country" and e.role}
        return [e for e in entities.values() if not (e.kind == "country" and e.role is None and e.name in with_role)]

    def _arms_roles(self, sentences: list[_Sentence]) -> dict[str, str]:
        votes: dict[str, dict[str, int]] = {}

        def vote(name: str, role: str, weight: int = 1) -> None:
            votes.setdefault(name, {}).setdefault(role, 0)
            votes[name][role] += weight

        for s in sentences:
            text = s.text
            give, take = _GIVE.search(text), _TAKE.search(text)
            explicit = 0
            for m in s.countries + [o for o in s.organizations if o.name.country]:
                name = m.name.canonical if m.name.kind == "country" else self.gaz.country_names.get(m.name.country or "")
                if not name:
                    continue
                before = text[max(0, m.start - 25):m.start].lower()
                explicit += 1
                if re.search(r"\b(to|for|with)\s+(the\s+)?$", before):
                    vote(name, "recipient", 2)
                elif re.search(r"\bfrom\s+(the\s+)?$", before) or "made" in before:
                    vote(name, "supplier", 2)
                elif give and m.end <= give.start():
                    vote(name, "supplier", 2)
                elif take and m.end <= take.start():
                    vote(name, "recipient", 2)
                else:
                    explicit -= 1
            if not explicit:
                # No grammatical cue: the system's country of origin is the likely supplier.
                for w in s.weapons:
                    origin = self.gaz.country_names.get(w.name.country or "")
                    if origin:
                        vote(origin, "supplier", 1)
        roles: dict[str, str] = {}
        for name, counts in votes.items():
            roles[name] = max(counts, key=lambda r: (counts[r], r == "supplier"))
        return roles

    def _sanction_roles(self, sentences: list[_Sentence]) -> dict[str, str]:
        votes: dict[str, dict[str, int]] = {}

        def vote(name: str, role: str, weight: int = 1) -> None:
            votes.setdefault(name, {}).setdefault(role, 0)
            votes[name][role] += weight

        for s in sentences:
            active = _ACTIVE_IMPOSE.search(s.text)
            for r in s.regimes:
                issuer = self.gaz.regime_issuers.get(r.name.canonical)
                if issuer:
                    vote(issuer, "sanctioning", 1)
            for m in s.countries:
                name = m.name.canonical
                before = s.text[max(0, m.start - 30):m.start].lower()
                after = s.text[m.end:m.end + 45]
                if re.match(r"^(?:'s)?\s*(?:and \w+ )?(sanctions|embargo|restrictive measures|blacklist|export controls|treasury|commerce department)", after, re.I):
                    vote(name, "sanctioning", 3)     # "US sanctions", "EU's embargo"
                elif re.match(r"^(?:'s)?[\w\s,-]{0,30}?\b(was|were|has been|have been|had been|is being|are being|would be|could be|will be)\s+"
                              r"(sanctioned|designated|blacklisted|targeted|hit|penali[sz]ed|added|placed|put)", after, re.I):
                    vote(name, "target", 3)          # "Turkey was sanctioned"
                elif re.search(r"\b(on|against|targeting)\s+(the\s+)?$", before):
                    vote(name, "target", 2)
                elif re.match(r"^[-\s]*(based|linked|registered|flagged|owned)\b", after, re.I):
                    vote(name, "target", 2)
                elif active and m.end <= active.start() and not re.search(r"\b(by|with)\s+(the\s+)?$", before):
                    vote(name, "sanctioning", 2)
                elif active and m.start >= active.end():
                    vote(name, "target", 1)
        return {name: max(c, key=lambda r: (c[r], r == "sanctioning")) for name, c in votes.items()}
