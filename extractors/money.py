"""Money amounts in news prose, normalised to US dollars with a static, dated rate table."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import yaml

DATA = Path(__file__).parent / "data" / "fx_rates.yaml"

MULTIPLIERS = {
    "trillion": 1e12,
    "tn": 1e12,
    "billion": 1e9,
    "bn": 1e9,
    "b": 1e9,
    "million": 1e6,
    "mn": 1e6,
    "m": 1e6,
    "mln": 1e6,
    "crore": 1e7,
    "crores": 1e7,
    "cr": 1e7,
    "lakh": 1e5,
    "lakhs": 1e5,
    "thousand": 1e3,
    "k": 1e3,
}
# Used only when the data file is absent; the data file is the documented source.
_FALLBACK_RATES = {
    "USD": 1.0,
    "EUR": 1.08,
    "GBP": 1.27,
    "KRW": 0.00075,
    "INR": 0.012,
    "JPY": 0.0067,
    "CNY": 0.14,
    "RUB": 0.011,
    "TRY": 0.031,
    "PLN": 0.25,
    "NOK": 0.094,
    "SEK": 0.095,
}
_FALLBACK_ALIASES = {
    "$": "USD",
    "us$": "USD",
    "usd": "USD",
    "dollars": "USD",
    "€": "EUR",
    "eur": "EUR",
    "euros": "EUR",
    "euro": "EUR",
    "£": "GBP",
    "gbp": "GBP",
    "pounds": "GBP",
    "won": "KRW",
    "krw": "KRW",
    "rs": "INR",
    "rs.": "INR",
    "inr": "INR",
    "₹": "INR",
    "rupees": "INR",
    "yen": "JPY",
    "¥": "JPY",
    "yuan": "CNY",
    "roubles": "RUB",
    "rubles": "RUB",
    "lira": "TRY",
    "zlotys": "PLN",
    "zloty": "PLN",
    "nok": "NOK",
    "sek": "SEK",
}


@dataclass(frozen=True)
class Money:
    text: str
    amount: float
    currency: str
    value_usd: float
    start: int
    end: int


@dataclass(frozen=True)
class RateTable:
    rates: dict[str, float]
    aliases: dict[str, str]
    history: dict[str, dict[int, float]]

    def usd(self, amount: float, currency: str, when: datetime | None = None) -> float | None:
        rate = self.rates.get(currency)
        points = self.history.get(currency)
        if when is not None and points:
            year = min(points, key=lambda y: abs(y - when.year))
            rate = points[year]
        return None if rate is None else amount * rate


@lru_cache(maxsize=1)
def rate_table() -> RateTable:
    if not DATA.exists():
        return RateTable(_FALLBACK_RATES, _FALLBACK_ALIASES, {})
    data = yaml.safe_load(DATA.read_text(encoding="utf-8")) or {}
    rates = {k.upper(): float(v) for k, v in (data.get("rates") or {}).items()}
    aliases = {k.lower(): v.upper() for k, v in (data.get("aliases") or {}).items()}
    for code in rates:
        aliases.setdefault(code.lower(), code)
    history = {}
    for code, points in (data.get("history") or {}).items():
        history[code.upper()] = {int(year): float(rate) for year, rate in points.items()}
    return RateTable(rates, aliases, history)


def _pattern(table: RateTable) -> re.Pattern[str]:
    symbols = sorted((a for a in table.aliases if not a.isalpha() or len(a) <= 3), key=len, reverse=True)
    # Multi-word names count as words after a number too: "2.5 billion U.S. dollars".
    words = sorted(
        (a for a in table.aliases if re.fullmatch(r"[a-z][a-z. ]*[a-z]", a) and len(a) > 3 or a in ("won", "yen")),
        key=len,
        reverse=True,
    )
    number = r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    mult = r"(?:\s*-?\s*(?P<mult>" + "|".join(sorted(MULTIPLIERS, key=len, reverse=True)) + r")\b)?"
    prefix = r"(?P<pre>" + "|".join(re.escape(s) for s in symbols) + r")\s?"
    suffix = r"\s*(?P<post>" + "|".join(re.escape(w) for w in words) + r")\b"
    return re.compile(
        rf"(?<![\w$€£¥₹]){prefix}{number}{mult}|\b{number.replace('num', 'num2')}"
        rf"{mult.replace('mult', 'mult2')}{suffix}",
        re.I,
    )


@lru_cache(maxsize=1)
def _compiled() -> re.Pattern[str]:
    return _pattern(rate_table())


_NUMBER = re.compile(r"\d[\d,.]*")
_WINDOW_BEFORE, _WINDOW_AFTER = 16, 32


def find_money(text: str, when: datetime | None = None) -> list[Money]:
    """Amounts with a currency, converted to USD at the rate of `when`'s year (else the latest)."""
    table = rate_table()
    pattern = _compiled()
    found: list[Money] = []
    seen_end = -1
    # The full pattern is costly on long text: run it only on short windows around numbers.
    for number_match in _NUMBER.finditer(text):
        if number_match.start() < seen_end:
            continue
        offset = max(0, number_match.start() - _WINDOW_BEFORE)
        window = text[offset : number_match.end() + _WINDOW_AFTER]
        for match in pattern.finditer(window):
            start, end = offset + match.start(), offset + match.end()
            if start > number_match.end() or end < number_match.start() or start < seen_end:
                continue
            money = _money(match, table, when, start, end)
            if money is not None:
                found.append(money)
                seen_end = end
            break
    return found


def _money(match: re.Match[str], table: RateTable, when: datetime | None, start: int, end: int) -> Money | None:
    groups = match.groupdict()
    currency_text = groups.get("pre") or groups.get("post") or ""
    number = groups.get("num") or groups.get("num2")
    multiplier = groups.get("mult") or groups.get("mult2")
    currency = table.aliases.get(currency_text.lower().rstrip(".")) or table.aliases.get(currency_text.lower())
    if not currency or not number:
        return None
    amount = float(number.replace(",", "")) * MULTIPLIERS.get((multiplier or "").lower(), 1.0)
    usd = table.usd(amount, currency, when)
    if usd is None:
        return None
    return Money(match.group(0), amount, currency, round(usd, 2), start, end)
