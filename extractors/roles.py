"""Who sold to whom, and who sanctioned whom: country roles from sentence structure.

Each sentence votes: a country after "to" receives, after "from" supplies; a country before a
selling verb supplies and before a buying verb receives; a manufacturer speaks for its home
country; "South Korean K9s" names the supplier by its adjective. When an article gives no
grammatical cue at all, the country of origin of the weapon system is the supplier."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from extractors.gazetteer import Gazetteer, Mention
    from newsflow.models import SanctionAction


class TaggedSentence(Protocol):
    """A sentence as the tagger hands it to the role and deal readers: its text, the text
    lowercased, and the gazetteer's mentions in it."""

    text: str
    low: str
    weapons: list[Mention]
    countries: list[Mention]
    organizations: list[Mention]


GIVE = re.compile(
    r"\b(sell|sells|sold|selling|deliver(?:s|ed|ing)?|suppl(?:y|ies|ied|ying)|export(?:s|ed|ing)?|"
    r"transfer(?:s|red|ring)?|ship(?:s|ped|ping)?|provid(?:e|es|ed|ing)|donat(?:e|es|ed|ing)|gift(?:s|ed)?|"
    r"pledg(?:e|es|ed|ing)|approv(?:e|es|ed|ing)|offer(?:s|ed|ing)?|"
    r"hand(?:s|ed)? over|send(?:s|ing)?|sent|cleared|notified|licen[cs]ed|won|wins|secured|awarded|"
    r"will (?:build|supply|deliver|provide))\b",
    re.I,
)
TAKE = re.compile(
    r"\b(buy|buys|bought|buying|purchas(?:e|es|ed|ing)|order(?:s|ed|ing)?|acquir(?:e|es|ed|ing)|"
    r"procur(?:e|es|ed|ing)|receiv(?:e|es|ed|ing)|import(?:s|ed|ing)?|took delivery|"
    r"sign(?:s|ed|ing)?(?= for\b| (?:a |an |the |its |two |three |\w+ )?(?:[\w$€£.,-]+ ){0,5}?(?:deals?|contracts?|"
    r"agreements?|orders?|accords?)\b)|"
    r"take delivery|takes delivery|taken delivery|taking delivery|inducted|pick(?:s|ed)?|opt(?:s|ed)? for|"
    r"pa(?:y|ys|id) for|paid|commission(?:s|ed)?|obtain(?:s|ed)?|select(?:s|ed)?|chose|chosen|request(?:s|ed)?|"
    r"approv(?:e|es|ed|ing) (?:the |a )?(?:purchase|acquisition|procurement|buying|order)|"
    r"seek(?:s|ing)?|sought|want(?:s|ed)?|negotiat\w+|cancel\w*|scrapp\w*|suspend\w*|halt\w*|ink(?:s|ed)?|"
    r"seal(?:s|ed)?|clinch\w*|finalis\w*|finaliz\w*|conclud\w*|green-l\w+|deploy\w*|operat\w*|field(?:s|ed)?)\b",
    re.I,
)
_FORCES = (
    r"(?:army|navy|air force|armed forces|military|land forces|forces|marines|coast guard|troops|defen[cs]e ministry|"
    r"ministry of defen[cs]e|defen[cs]e department|department of defen[cs]e)"
)
_MADE = re.compile(r"^\s*(?:-\s*)?(?:made|built|designed|produced|manufactured|origin|supplied)\b", re.I)

IMPOSE = re.compile(
    r"\b(?<!was )(?<!were )(?<!been )(imposed|imposes|impose|imposing|sanctioned|sanctioning|designated|designates|"
    r"blacklisted|blacklists|froze|freezes|freezing|added|adds|adding|slapped|threatened|threatens|targeted|targets|"
    r"penali[sz]ed|banned|bans|restricted|extended|extends|renewed|waived|lifted|eased|expanded|announced|unveiled|"
    r"adopted|approved|put|puts|placed|listed|lists|listing|charged|indicted|fined|removed|removes|delisted|"
    r"unfroze|blacklists|designates|bars|barred|sanctions|triggered|triggers|invoked|invokes|voted|votes|"
    r"revoked|revokes|suspended|suspends|halted|halts|seized|seizes|confiscated)\b",
    re.I,
)


class RoleVotes:
    def __init__(self) -> None:
        self.votes: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))

    def add(self, name: str | None, role: str, weight: float) -> None:
        if name:
            self.votes[name][role] += weight

    def decide(self, prefer: str) -> dict[str, str]:
        return {name: max(c, key=lambda r: (c[r], r == prefer)) for name, c in self.votes.items() if c}


_RIVAL = re.compile(r"\b(rival|competing|losing|competitor'?s?|beat|beating|defeated|outbid|instead of)\b[^.]*$", re.I)
_DEMONYM = re.compile(r"(?:an|ian|ean|ese|ish|i|ic|ch|ss|ek|ai|ine)$")


def _is_demonym(m: Mention) -> bool:
    """ "Turkish", "Israeli", "Dutch": an adjective, not a capital like "Ankara" or "Bogotá"."""
    return m.name.kind == "country" and m.surface != m.name.canonical and bool(_DEMONYM.search(m.surface))


# "making Armenia the first export customer", "Egypt became the third operator"
_CUSTOMER = re.compile(
    r"^\s+(?:as |became |becomes |is |was |will be )?(?:the |its |a |an )?"
    r"(?:(?:first|second|third|fourth|fifth|latest|newest|next|new|\d+\w*)\s+)?"
    r"(?:(?:foreign|export|international|overseas)\s+)?(?:customer|buyer|operator|user|client)\b",
    re.I,
)


# "a sale to NATO ally Poland", "to key partner India"
_TO_ALLY = re.compile(
    r"\bto\s+(?:the\s+|its\s+)?(?:(?:nato|key|close|major|longtime|long-time|us|u\.s\.|american|"
    r"regional|gulf|strategic|treaty|non-nato)\s+)+(?:ally|partner|neighbou?r)\s+$"
)
# The agent of a passive verb: "ordered by Athens" buys, "supplied by Moscow" sells.
_BUYER_AGENT = re.compile(
    r"\b(?:ordered|bought|purchased|acquired|procured|requested|received|leased)\s+by\s+(?:the\s+)?$"
)
_SELLER_AGENT = re.compile(
    r"\b(?:sold|supplied|delivered|provided|donated|built|made|manufactured|exported|"
    r"offered|transferred|shipped)\s+by\s+(?:the\s+)?$"
)


def _mention_country(m: Mention, gaz: Gazetteer) -> str | None:
    if m.name.kind == "country":
        return m.name.canonical
    return gaz.country_names.get(m.name.country or "")


def _before(text: str, m: Mention, width: int = 30) -> str:
    return text[max(0, m.start - width) : m.start].lower()


_ARMS_NOUN = re.compile(
    r"^\s+(?:(?!(?:against|from|to|for|with|by|of|in|on|at|cabinet|government|ministry|parliament|officials|"
    r"authorities|airspace|territory|border)\b)[\w-]+\s+){0,2}?(?:arms|weapons?|missiles?|drones?|jets?|fighters?|aircraft|helicopters?|tanks?|howitzers?|"
    r"guns?|artillery|warships?|frigates?|submarines?|air[- ]defen[cs]e|rockets?|munitions|ammunition|shells|"
    r"interceptors?|systems?|hardware|equipment|armou?red)\b",
    re.I,
)


_CUSTOMERS = re.compile(
    r"^(?:,\s*[A-Z][\w ]{1,25}?)*(?:,?\s+and\s+[A-Z][\w ]{1,25}?)?\s+(?:were|are|as|remain|being)?\s*"
    r"(?:the\s+)?(?:main|largest|biggest|top|key|leading|remaining|\s)*(?:customers|buyers|importers|clients|recipients)\b"
)


def _fold(pattern: re.Pattern[str]) -> re.Pattern[str]:
    return re.compile(pattern.pattern.lower(), pattern.flags & ~re.IGNORECASE)


_GIVE_LOW, _TAKE_LOW, _IMPOSE_LOW = _fold(GIVE), _fold(TAKE), _fold(IMPOSE)
_CLAUSE_END = re.compile(
    r"[;:]|\b(which|who|that|while|after|before|as|but|said|says|told|according|added)\b|"
    r",\s*(?:bringing|taking|making|with)\b"
)


def _next_verb(text: str, start: int, width: int = 90, sanctions: bool = False) -> str | None:
    """The kind of the first verb after a mention in its clause: give, take or (in a sanctions
    sentence) impose. `text` is lower-cased."""
    window = text[start : start + width]
    kinds = (("give", _GIVE_LOW), ("take", _TAKE_LOW)) + ((("impose", _IMPOSE_LOW),) if sanctions else ())
    found = [(m.start(), kind) for kind, pattern in kinds for m in [pattern.search(window)] if m]
    if not found:
        return None
    position, kind = min(found, key=lambda f: (f[0], f[1] != "take"))  # "approves the purchase" buys
    # A verb past the end of the clause belongs to another subject; one after a refusal or a
    # request is no transaction ("rejected Turkey's request to purchase").
    if _CLAUSE_END.search(window[:position]) or _PARTY_HEDGE.search(window[:position]):
        return None
    return kind


# A party named after one of these in its own clause is the object of a wish, a refusal or a
# rivalry ("rejected Turkey's request to purchase Raytheon's Patriot", "to defend against China"),
# not of the reported transaction. "possible"/"proposed" sale stay: that is how approvals read.
_PARTY_HEDGE = re.compile(
    r"\b(request\w*|reject\w*|refus\w*|instead of|rather than|against|rival\w*|bids?|"
    r"tenders?|compet\w*|oppos\w*|criticis\w*|criticiz\w*|protest\w*|wants?|wanted|seek\w*|"
    r"sought|hopes?|talks|negotiat\w*|consider\w*|tensions?|threats?|counter|conflict|war|"
    r"fighting|relations|ties|demand\w*|disput\w*|pressur\w*|row|standoff|clash\w*)\b"
)
_PARTY_CLAUSE = re.compile(r"[;:,(]\s|\b(?:and|but|which|who|after|before|while|as|amid|said|says)\b")


_DATELINE = re.compile(r"^[A-Z][A-Z .,'-]{2,40}(?:\([^)]{1,40}\))?,?(?: \w{3,9}\.? \d{1,2},?)?\s*(?:[—–]|--|-)\s")
_OUTLET = re.compile(r"^\s+(?:News|Times|Post|Herald|Daily|Today|Tribune|Radio|Television|TV|Gazette|Journal)\b")
_AWARD = re.compile(r"\b(award(?:s|ed|ing)?|contract(?:s|ed)?)\b", re.I)


_DEAL_WORD = re.compile(r"\b(?:contracts?|deals?|orders?|agreements?|sales?|purchases?|exports?|deliver\w*)\b")


def _in_deal_clause(low: str, m: Mention) -> bool:
    """The mention's own clause holds a transaction verb or noun: a maker, an origin adjective or a
    "with X" outside it ("an air force that flies Russian Su-27s") is background."""
    low = low.lower()
    breaks = [b for b in _PARTY_CLAUSE.finditer(low)]
    start = max((b.end() for b in breaks if b.end() <= m.start), default=0)
    end = min((b.start() for b in breaks if b.start() >= m.end), default=len(low))
    clause = low[start:end]
    return bool(_GIVE_LOW.search(clause) or _TAKE_LOW.search(clause) or _DEAL_WORD.search(clause))


def _hedged_party(low: str, m: Mention) -> bool:
    window = low[max(0, m.start - 80) : m.start]
    clause = _PARTY_CLAUSE.split(window)[-1]
    return bool(_PARTY_HEDGE.search(clause))


def arms_roles(
    sentences: Sequence[TaggedSentence], gaz: Gazetteer, sanctions: bool = False, origin_fallback: bool = True
) -> dict[str, set[str]]:
    votes = RoleVotes()
    makers: set[str] = set()
    for s in sentences:
        text = s.text
        low = s.low if len(s.low) == len(text) else text  # positions must line up with the text
        give, take = _GIVE_LOW.search(low), _TAKE_LOW.search(low)
        sanction_context = sanctions or "sanction" in low or "embargo" in low
        licence_at = low.find("export licen")
        verb = min((v for v in (give, take) if v), key=lambda v: v.start(), default=None)
        makers_here = [
            o for o in s.organizations if o.name.country and o.name.category in ("manufacturer", "arms_exporter")
        ]
        # "Germany's KNDS", "Britain's BAE Systems": the text names the company's country.
        owned = {
            o.start
            for o in makers_here
            for c in s.countries
            if 2 <= o.start - c.end <= 3 and text[c.end : o.start].startswith("'")
        }
        # A maker written with its country ("MBDA UK", "KNDS Deutschland") speaks for that country.
        branch = {c.start: o for o in makers_here for c in s.countries if c.start - o.end == 1}
        owned |= {o.start for o in branch.values()}
        # "The Defense Department is awarding Boeing a contract": a state's own agency buys from its
        # own maker, with no foreign state in the sentence.
        home = {o.name.country for o in makers_here if o.name.country}  # makers_here all have one
        if _AWARD.search(low) and all(
            _mention_country(c, gaz) in {gaz.country_names.get(h) for h in home} for c in s.countries
        ):
            for agency in s.organizations:
                if agency.name.category == "government_agency" and agency.name.country in home:
                    votes.add(gaz.country_names.get(agency.name.country or ""), "recipient", 2)
        parties = list(s.countries) + [o for o in makers_here if o.start not in owned]
        weapons = {w.start: w for w in s.weapons}
        parties.sort(key=lambda p: p.start)
        dateline = _DATELINE.match(text)
        dateline_end = dateline.end() if dateline else -1
        previous: tuple[Mention, str] | None = None  # (mention, role) of the last party given a role by a preposition
        for m in parties:
            name = _mention_country(m, gaz)
            before, after = _before(text, m), text[m.end : m.end + 60]
            is_company = m.name.kind == "organization"
            if m.end <= dateline_end or _OUTLET.match(after):
                continue  # "TAIPEI (Taiwan News) —": where the story was filed
            if _RIVAL.search(text[max(0, m.start - 45) : m.start]) or _hedged_party(low.lower(), m):
                continue  # "over a rival offer from South Korea's Hanwha"
            gap = text[previous[0].end : m.start] if previous is not None else ""
            listed = re.fullmatch(r",?\s+(?:and|or)\s+(?:the\s+)?", gap) or (
                re.fullmatch(r",\s*(?:the\s+)?", gap) and re.match(r"\s*(?:,|and\b|or\b)", text[m.end :])
            )
            if previous is not None and not _is_demonym(m) and listed:
                votes.add(name, previous[1], 3)  # "from Denmark and the Netherlands"
                previous = (m, previous[1])
                continue
            previous = None
            if is_company:
                makers.add(name or "")
                votes.add(name, "supplier", 2)  # manufacturers and exporters sell
                continue
            possessed = (
                next((w for start, w in weapons.items() if 2 <= start - m.end <= 12), None)
                if after.startswith("'")
                else None
            )
            if any(m.end + 2 <= start <= m.end + 3 for start in owned) or m.start in branch:
                makers.add(name or "")
                votes.add(name, "supplier", 3)
            elif possessed is not None:
                # "India's S-400 systems" belong to their buyer; "Russia's S-400" to its maker.
                origin = gaz.country_names.get(possessed.name.country or "")
                votes.add(name, "supplier" if origin == name else "recipient", 2)
            elif _CUSTOMERS.match(text[m.end : m.end + 120]) or _CUSTOMER.match(after):
                votes.add(name, "recipient", 2)  # "India, China and Kazakhstan the main customers"
            elif re.match(r"^-(?:registered|based|flagged|owned|linked)\b", after):
                continue  # "a Singapore-registered broker" is no party to the deal
            elif (
                re.search(r"\b(?:to|equip|(?:to )?help)\s+(?:the\s+)?$", before)
                or _TO_ALLY.search(before)
                or re.search(
                    r"\b(?:offer(?:s|ed)?|s[oe]ll(?:s|ing)?|sold|suppl(?:y|ies|ied|ying)|provid(?:e|es|ed|ing)|"
                    r"giv(?:e|es|ing)|gave|arm(?:s|ed|ing)?)\s+(?:the\s+)?$",
                    before,
                    re.I,
                )
            ):
                votes.add(name, "recipient", 3)  # "to India", "offered New Delhi the Su-57E"
                previous = (m, "recipient")
            elif licence_at >= 0 and m.end <= licence_at:
                votes.add(name, "supplier", 3)  # the licensing country exports
            elif _BUYER_AGENT.search(before) or re.search(r"\barriv\w*\s+(?:in|at)\s+(?:the\s+)?$", before):
                votes.add(name, "recipient", 3)  # "ordered by Athens", "arrived in Ukraine"
            elif _SELLER_AGENT.search(before):
                votes.add(name, "supplier", 3)  # "sold by Russia", "built by France"
            elif re.search(r"\bfrom\s+(?:the\s+)?$", before) or _MADE.match(after):
                votes.add(name, "supplier", 3)
                previous = (m, "supplier")
            elif re.search(r"\bfor\s+(?:the\s+)?$", before) and re.match(rf"^(?:'s)?\s*{_FORCES}", after, re.I):
                votes.add(name, "recipient", 3)
            elif re.match(
                rf"^(?:'s)?\s+(?:\w+\s+)?{_FORCES}\b(?!\s+(?:officers?|officials?|personnel|commanders?|"
                rf"generals?|intelligence|attach\w+|leaders?|chiefs?|cooperation|co-operation|technical|"
                rf"industr\w+|exports?|service|agency|spokes\w+))",
                after,
                re.I,
            ):
                votes.add(name, "recipient", 3)  # "the Philippine Navy", "the US Army", "India's air force"
            elif (
                _is_demonym(m) and _ARMS_NOUN.match(after) or any(text[m.end : w] in (" ", "-") for w in weapons)
            ) and _in_deal_clause(low, m):
                votes.add(name, "supplier", 2)  # "Turkish drones", "South Korean K9 howitzers"
            elif re.search(r"\bfor\s+(?:the\s+)?$", before):
                votes.add(name, "recipient", 2)
            elif re.search(r"\bwith\s+(?:the\s+)?$", before) and verb is not None and _in_deal_clause(low, m):
                # "Poland signed with Hanwha" names the seller; "Hanwha signed with Poland" the buyer.
                maker_signs = any(o.start < verb.start() for o in makers_here)
                votes.add(name, "supplier" if verb is take and not maker_signs else "recipient", 2)
            elif (
                re.match(
                    r"^(?:'s)?\s+(?:purchase|order|acquisition|procurement|request|bid|deal to buy|"
                    r"government|defen[cs]e ministry|ministry)",
                    after,
                    re.I,
                )
                and verb is take
            ):
                votes.add(name, "recipient", 2)
            elif re.match(r"^(?:'s)?\s+(?:sale|export|offer|delivery|deliveries|transfer)", after, re.I):
                votes.add(name, "supplier", 2)
            else:
                kind = _next_verb(low, m.end, sanctions=sanction_context)
                if kind == "give":
                    votes.add(name, "supplier", 2)
                elif kind == "take":
                    votes.add(name, "recipient", 2)
    decided = votes.decide(prefer="supplier")
    roles: dict[str, set[str]] = {name: {role} for name, role in decided.items()}
    # A government buying from its own industry is both supplier and recipient.
    # ... but not when another country sells: "built partly by a Polish yard" under a Korean sale.
    others = {n for n, r in decided.items() if n not in makers or r == "supplier"}
    for name in makers:
        if not (others - {name}) and (
            decided.get(name) == "recipient" or (name and votes.votes[name].get("recipient", 0) >= 2)
        ):
            roles.setdefault(name, set()).update({"supplier", "recipient"})
    if origin_fallback and not any("supplier" in r for r in roles.values()):
        # No grammatical cue anywhere: the country that makes the system is the supplier.
        for s in sentences:
            for w in s.weapons:
                origin = gaz.country_names.get(w.name.country or "")
                if origin and "recipient" not in roles.get(origin, set()):
                    roles.setdefault(origin, set()).add("supplier")
    return roles


def sanction_roles(actions: Sequence[SanctionAction]) -> list[tuple[str, str]]:
    """(country or bloc, role) for the parties of the sanction frames: exactly the frames' sanctioning
    parties, and their targets that are countries."""
    roles: dict[tuple[str, str], None] = {}
    for a in actions:
        if a.sanctioning:
            roles[(a.sanctioning, "sanctioning")] = None
        if a.target and a.target_kind == "country":
            roles[(a.target, "target")] = None
    return list(roles)
