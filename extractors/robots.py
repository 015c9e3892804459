"""robots.txt for article pages (RFC 9309): fetched once per host per run, longest match wins,
`*` and `$` wildcards. A robots.txt that is missing (4xx), broken (5xx) or slow counts as
"everything allowed", within a short time limit, so it never holds up a run."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from extractors import http
from newsflow.settings import Settings

AGENT_TOKEN = "newsflow"


@dataclass
class RobotsRules:
    """The rules of one robots.txt, grouped by user agent."""

    groups: list[tuple[list[str], list[tuple[bool, str]]]] = field(default_factory=list)
    note: str | None = None  # why everything is allowed, when it is by default

    def rules_for(self, agent: str) -> list[tuple[bool, str]]:
        agent = agent.lower()
        named = [rules for agents, rules in self.groups if agent in agents]
        if not named:
            named = [rules for agents, rules in self.groups if "*" in agents]
        return [rule for rules in named for rule in rules]

    def allows(self, url: str, agent: str = AGENT_TOKEN) -> bool:
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if path == "/robots.txt":
            return True
        best_length, allowed = -1, True
        for allow, pattern in self.rules_for(agent):
            if _matches(pattern, path):
                length = len(pattern)
                if length > best_length or (length == best_length and allow):
                    best_length, allowed = length, allow
        return allowed


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _matches(pattern: str, path: str) -> bool:
    compiled = _PATTERNS.get(pattern)
    if compiled is None:
        anchored = pattern.endswith("$")
        body = pattern[:-1] if anchored else pattern
        compiled = re.compile(".*".join(re.escape(part) for part in body.split("*")) + ("$" if anchored else ""))
        if len(_PATTERNS) < 10_000:
            _PATTERNS[pattern] = compiled
    return compiled.match(path) is not None


def parse_robots(text: str) -> RobotsRules:
    rules = RobotsRules()
    agents: list[str] = []
    current: list[tuple[bool, str]] | None = None
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key, value = key.strip().lower(), value.strip()
        if key == "user-agent":
            if current is not None:  # a user-agent line after rules starts a new group
                agents, current = [], None
            agents.append(value.lower().split("/")[0].strip())
        elif key in ("allow", "disallow"):
            if not agents:
                continue  # rules before any user-agent line belong to no group
            if current is None:
                current = []
                rules.groups.append((agents, current))
            if value:  # an empty Disallow allows everything
                current.append((key == "allow", value))
    return rules


ALLOW_ALL = RobotsRules()


class RobotsCache:
    """robots.txt rules per origin for one run; concurrent requests for one origin share a fetch."""

    def __init__(self) -> None:
        self._rules: dict[str, RobotsRules] = {}
        self._inflight: dict[str, asyncio.Future[RobotsRules]] = {}
        self.fetches = 0

    @staticmethod
    def origin(url: str) -> str:
        parsed = httpx.URL(url)
        port = f":{parsed.port}" if parsed.port else ""
        return f"{parsed.scheme}://{parsed.host}{port}"

    async def rules(
        self, client: httpx.AsyncClient, url: str, settings: Settings, limiter: http.HostLimiter | None = None
    ) -> RobotsRules:
        origin = self.origin(url)
        if origin in self._rules:
            return self._rules[origin]
        pending = self._inflight.get(origin)
        if pending is not None and pending.get_loop() is asyncio.get_running_loop():
            return await asyncio.shield(pending)
        future: asyncio.Future[RobotsRules] = asyncio.get_running_loop().create_future()
        self._inflight[origin] = future
        try:
            rules = await self._fetch(client, origin, settings, limiter)
        except BaseException:
            rules = RobotsRules(note="robots.txt fetch was interrupted; treated as allowing everything")
            self._inflight.pop(origin, None)
            future.set_result(rules)
            raise
        self._rules[origin] = rules
        self._inflight.pop(origin, None)
        future.set_result(rules)
        return rules

    async def _fetch(
        self, client: httpx.AsyncClient, origin: str, settings: Settings, limiter: http.HostLimiter | None
    ) -> RobotsRules:
        self.fetches += 1
        url = origin + "/robots.txt"
        try:
            response = await http.get(
                client,
                url,
                settings,
                max_bytes=settings.max_robots_bytes,
                headers={"Accept": "text/plain, */*;q=0.5"},
                limiter=limiter,
                total_timeout=settings.robots_timeout,
            )
        except http.FetchError as exc:
            return RobotsRules(note=f"{url} could not be read ({exc}); treated as allowing everything")
        if response.status != 200:
            return RobotsRules(note=f"{url} answered HTTP {response.status}; treated as allowing everything")
        return parse_robots(response.body.decode("utf-8", errors="replace"))

    async def allows(
        self, client: httpx.AsyncClient, url: str, settings: Settings, limiter: http.HostLimiter | None = None
    ) -> bool:
        rules = await self.rules(client, url, settings, limiter)
        return rules.allows(url, AGENT_TOKEN)
