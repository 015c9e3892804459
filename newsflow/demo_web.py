"""Serve the bundled sample news web (demo/web) on loopback: one port per site, so each site
has its own host:port and its own page chrome, and URLs stay the same from run to run."""

from __future__ import annotations

import mimetypes
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

WEB_DIR = Path(__file__).resolve().parents[1] / "demo" / "web"
DEFAULT_PORT = 47810
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".pdf": "application/pdf",
    ".json": "application/json",
}


class SampleWeb:
    """Start with `with SampleWeb() as web:`; `web.feed_urls` lists every site's feeds."""

    def __init__(self, web_dir: Path = WEB_DIR, host: str = "127.0.0.1", base_port: int = DEFAULT_PORT):
        self.web_dir = web_dir
        config = yaml.safe_load((web_dir / "sites.yaml").read_text(encoding="utf-8"))
        self.sites = config["sites"]
        self.host = host
        self.base_port = base_port
        self.bases: dict[str, str] = {}
        self._servers: list[ThreadingHTTPServer] = []
        self.requests: list[str] = []

    def __enter__(self) -> SampleWeb:
        if self._servers:
            return self
        for offset, site in enumerate(self.sites):
            try:
                server = self._bind(site["slug"], self.base_port + offset if self.base_port else 0)
            except OSError:
                for bound in self._servers:  # not serving yet: close, don't wait for a shutdown
                    bound.server_close()
                self._servers = []
                raise
            self.bases[site["slug"]] = f"http://{self.host}:{server.server_address[1]}"
            self._servers.append(server)
        for server in self._servers:
            threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self._servers = []

    @property
    def feeds(self) -> list[dict[str, str]]:
        return [
            {"url": self.bases[s["slug"]] + path, "name": s["name"]} for s in self.sites for path in s.get("feeds", [])
        ]

    def render(self, slug: str, path: str) -> bytes | None:
        root = (self.web_dir / slug).resolve()
        target = (root / unquote(path).lstrip("/")).resolve()
        if root not in target.parents or not target.is_file():
            return None
        body = target.read_bytes()
        if target.suffix in (".html", ".xml", ".json"):
            text = body.decode("utf-8")
            for other, base in self.bases.items():
                text = text.replace("{{base:" + other + "}}", base)
            body = text.encode("utf-8")
        return body

    def _bind(self, slug: str, port: int) -> ThreadingHTTPServer:
        web = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                path = urlsplit(self.path).path
                if path.endswith("/"):
                    path += "index.html"
                web.requests.append(f"{slug}{path}")
                body = web.render(slug, path)
                if body is None:
                    self.send_error(404, "no such page in the sample web")
                    return
                suffix = Path(path).suffix
                self.send_response(200)
                self.send_header(
                    "Content-Type",
                    CONTENT_TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream",
                )
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer((self.host, port), Handler)
        server.daemon_threads = True
        return server
