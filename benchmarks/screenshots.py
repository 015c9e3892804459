"""Screenshots of what an analyst sees: the ingest flow run in the Prefect UI, its artifacts, and
the digest. Starts its own Prefect server and sample web on loopback, ingests the sample web,
writes the digest, and captures each page with headless Chromium (Debian's `chromium` package).

Usage: python benchmarks/screenshots.py [--out docs/screenshots] [--port 4391]"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _wait_for(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not answer within {seconds:.0f} s")


def _api(base: str, path: str, body: dict) -> list | dict:
    request = urllib.request.Request(
        f"{base}{path}", data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def shoot(chromium: str, url: str, out: Path, height: int = 1100, wait_ms: int = 12000) -> None:
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--window-size=1400,{height}",
            f"--virtual-time-budget={wait_ms}",
            f"--screenshot={out}",
            url,
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    print(f"  {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--port", type=int, default=4391)
    args = parser.parse_args(argv)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise SystemExit("chromium is not installed: `apt-get install chromium`")
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="newsflow-shots-"))
    api = f"http://127.0.0.1:{args.port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(work / "prefect"),
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_API_URL": api,
    }
    server = subprocess.Popen(
        [BIN / "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(args.port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for(f"{api}/health", 120)
        data_dir = work / "data"
        subprocess.run(
            [BIN / "newsflow", "demo", "--data-dir", str(data_dir)],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=600,
        )
        digest = args.out / "digest.html"
        subprocess.run(
            [
                BIN / "newsflow",
                "digest",
                "--data-dir",
                str(data_dir),
                "--since",
                "3650d",
                "-o",
                str(work / "digest.html"),
            ],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        runs = _api(api, "/flow_runs/filter", {"sort": "START_TIME_DESC", "limit": 1})
        run_id = runs[0]["id"]
        ui = f"http://127.0.0.1:{args.port}"
        print("screenshots:")
        shoot(chromium, f"{ui}/runs/flow-run/{run_id}", args.out / "flow-run.png")
        artifacts = _api(api, "/artifacts/filter", {"sort": "CREATED_DESC", "limit": 20})
        report = next((a for a in artifacts if a.get("type") == "markdown"), None)
        if report:
            shoot(chromium, f"{ui}/artifacts/artifact/{report['id']}", args.out / "run-report.png", height=1400)
        shoot(chromium, f"file://{work / 'digest.html'}", args.out / "digest.png", height=1500, wait_ms=1000)
        del digest
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
