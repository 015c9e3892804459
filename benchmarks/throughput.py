"""Throughput: newsflow end to end against the extraction ceiling and two peer extractors, in one run.

    make bench-throughput                                   # 5,000 pages on 40 loopback hosts
    .venv/bin/python benchmarks/throughput.py --pages 500   # a quick run

1. Builds N unique pages from the AEB HTML (benchmarks/throughput_pages.py) and serves them, with
   one RSS feed and a robots.txt per host, from a child process on H loopback addresses
   (127.0.0.1 … 127.0.0.H).
2. The ceiling: trafilatura `bare_extraction(with_metadata=True)` alone over the same pages in
   W processes (benchmarks/throughput_extract.py), once before and once after newsflow's run.
3. newsflow end to end: `newsflow ingest --allow-private-networks` in a child process, feeds to
   committed rows, on a fresh data directory, with the flow's stages timed
   (benchmarks/throughput_ingest.py); peak RSS of its whole process tree (workers and Prefect's
   temporary server included) and the CPU seconds it used.
4. A no-op ingest straight after (nothing new, nothing due): its wall time.
5. newspaper4k and news-please over the same pages in W processes, each in its own virtual
   environment under benchmarks/.peer-venvs/ (gitignored), installed from wheels on first use.
   One that cannot install from wheels is reported and skipped.

Prints a table and writes benchmarks/results/throughput.json (throughput-quick.json for runs of
fewer than 5,000 pages). Every ratio comes from this one run. The machine is shared, so CPU
seconds are reported beside wall time: pages per CPU-second does not move with other load."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from email.utils import formatdate
from pathlib import Path
from xml.sax.saxutils import escape

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import throughput_pages as pages_mod  # noqa: E402
from benchmarks._common import REPO, RESULTS_DIR, environment, write_json  # noqa: E402

PEERS = {"newspaper4k": "newspaper4k==0.9.6", "news-please": "news-please==1.6.16"}
PEER_VENVS = REPO / "benchmarks" / ".peer-venvs"
FULL_PAGES = 5000
ROBOTS_TXT = b"User-agent: *\nAllow: /\n"


# ---------------------------------------------------------------- the loopback web (child process)


def _feed_xml(base: str, items: list[tuple[str, str, float]]) -> bytes:
    body = "".join(
        f"<item><title>{escape(title)}</title><link>{escape(link)}</link>"
        f'<guid isPermaLink="true">{escape(link)}</guid>'
        f"<pubDate>{formatdate(stamp, usegmt=True)}</pubDate></item>"
        for title, link, stamp in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>Throughput desk {escape(base)}</title><link>{escape(base)}/</link>"
        f"<description>benchmark feed</description>{body}</channel></rss>\n"
    ).encode()


def _serve(n_pages: int, n_hosts: int, conn) -> None:
    """Child process: H servers on 127.0.0.1..H; page bodies are built per request."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    base = pages_mod.load_base_pages()
    servers, bases = [], []
    for h in range(n_hosts):
        server = ThreadingHTTPServer((f"127.0.0.{h + 1}", 0), BaseHTTPRequestHandler)
        servers.append(server)
        bases.append(f"http://127.0.0.{h + 1}:{server.server_address[1]}")
    now = time.time()
    routes: list[dict[str, object]] = [{"/robots.txt": (ROBOTS_TXT, "text/plain")} for _ in range(n_hosts)]
    items: list[list[tuple[str, str, float]]] = [[] for _ in range(n_hosts)]
    for i in range(n_pages):
        h = pages_mod.host_of(i, n_hosts)
        path = pages_mod.page_path(base, i)
        routes[h][path] = i
        items[h].append((f"Report {i}", bases[h] + path, now - 60 * i))
    for h in range(n_hosts):
        routes[h]["/feed.xml"] = (_feed_xml(bases[h], items[h]), "application/rss+xml; charset=utf-8")

    def handler_for(table: dict[str, object]):
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                route = table.get(self.path.split("?", 1)[0])
                if route is None:
                    self.send_error(404)
                    return
                if isinstance(route, int):
                    body, ctype = pages_mod.page_html(base, route).encode("utf-8"), "text/html; charset=utf-8"
                else:
                    body, ctype = route
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    for server, table in zip(servers, routes, strict=False):
        server.RequestHandlerClass = handler_for(table)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
    conn.send(bases)
    threading.Event().wait()


class LoopbackWeb:
    def __init__(self, n_pages: int, n_hosts: int):
        self.n_pages, self.n_hosts = n_pages, n_hosts
        self.bases: list[str] = []
        self._process = None

    def __enter__(self) -> LoopbackWeb:
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        self._process = ctx.Process(target=_serve, args=(self.n_pages, self.n_hosts, child), daemon=True)
        self._process.start()
        if not parent.poll(120):
            raise RuntimeError("the loopback web did not start")
        self.bases = parent.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.join(10)


# ---------------------------------------------------------------- measuring a child process


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _tree_sample(root: int) -> tuple[int, dict[int, float]]:
    """Resident memory of `root` and all its descendants, and each one's CPU seconds so far, from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    cpu: dict[int, float] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    ticks = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        parents[pid] = int(fields[1])
        rss[pid] = int(fields[21]) * page
        cpu[pid] = (int(fields[11]) + int(fields[12])) / ticks
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    return sum(rss.get(pid, 0) for pid in tree), {pid: cpu[pid] for pid in tree if pid in cpu}


def run_child(cmd: list[str], env: dict | None = None, sample_rss: bool = False, timeout: float = 3600) -> dict:
    """Run `cmd`; wall seconds, CPU seconds of its whole tree, peak tree RSS, stdout, stderr."""
    cpu_before = _children_cpu()
    start = time.perf_counter()
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
    peak = [0]
    cpu_seen: dict[int, float] = {}
    done = threading.Event()

    def sample() -> None:
        # Extraction workers are children of a fork server that nobody waits for, so
        # RUSAGE_CHILDREN misses them: their CPU is read from /proc while they live.
        while not done.is_set():
            try:
                rss, cpu = _tree_sample(process.pid)
                peak[0] = max(peak[0], rss)
                cpu_seen.update(cpu)
            except Exception:
                pass
            done.wait(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    if sample_rss:
        sampler.start()
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except BaseException:
        process.kill()
        raise
    finally:
        done.set()
    wall = time.perf_counter() - start
    cpu_s = _children_cpu() - cpu_before
    if sample_rss:
        cpu_s = max(cpu_s, sum(cpu_seen.values()))
    return {
        "wall_s": wall,
        "cpu_s": cpu_s,
        "peak_rss_bytes": peak[0] or None,
        "returncode": process.returncode,
        "stdout": stdout,
        "stderr": stderr,
    }


# ---------------------------------------------------------------- the systems


def peer_python(name: str, log: list[str]) -> tuple[str | None, str | None]:
    """The peer's own interpreter, installing it from wheels on first use; or (None, why not)."""
    venv = PEER_VENVS / name
    python = venv / "bin" / "python"
    stamp = venv / ".installed"
    requirement = PEERS[name]
    if stamp.is_file() and stamp.read_text().strip() == requirement and python.is_file():
        return str(python), None
    log.append(f"installing {requirement} into {venv.relative_to(REPO)} (wheels only) …")
    print(log[-1], flush=True)
    shutil.rmtree(venv, ignore_errors=True)
    base_python = getattr(sys, "_base_executable", None) or sys.executable
    made = subprocess.run([base_python, "-m", "venv", str(venv)], capture_output=True, text=True)
    if made.returncode != 0:
        return None, f"could not create a virtual environment: {made.stderr.strip()[-300:]}"
    pip = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--only-binary=:all:",
            requirement,
        ],
        capture_output=True,
        text=True,
    )
    if pip.returncode != 0:
        errors = [line for line in pip.stderr.splitlines() if line.startswith("ERROR")]
        shutil.rmtree(venv, ignore_errors=True)
        return None, f"{requirement} does not install from wheels: " + " / ".join(errors[-2:])[:400]
    stamp.write_text(requirement + "\n")
    return str(python), None


def extract_only(python: str, system: str, n_pages: int, workers: int, bases: list[str]) -> dict:
    result = run_child(
        [
            python,
            str(REPO / "benchmarks" / "throughput_extract.py"),
            "--system",
            system,
            "--pages",
            str(n_pages),
            "--workers",
            str(workers),
            "--hosts",
            ",".join(bases),
        ]
    )
    if result["returncode"] != 0:
        return {"error": (result["stderr"].strip().splitlines() or ["no output"])[-1][:300]}
    measured = json.loads(result["stdout"].strip().splitlines()[-1])
    measured["cpu_s"] = round(result["cpu_s"], 2)  # the workers' CPU, start-up and warm-up included
    return measured


def ingest(data_dir: Path, feeds_file: Path, timings: Path, env: dict) -> dict:
    cmd = [
        sys.executable,
        str(REPO / "benchmarks" / "throughput_ingest.py"),
        str(timings),
        "--",
        "ingest",
        "--feeds",
        str(feeds_file),
        "--data-dir",
        str(data_dir),
        "--allow-private-networks",
    ]
    result = run_child(cmd, env=env, sample_rss=True)
    if result["returncode"] != 0:
        raise RuntimeError(f"newsflow ingest failed ({result['returncode']}): {result['stderr'][-2000:]}")
    result["timings"] = json.loads(timings.read_text())
    result["summary"] = _parse_summary(result["stdout"])
    return result


def _parse_summary(stdout: str) -> dict[str, int]:
    summary = {}
    for line in stdout.splitlines():
        label, _, value = line.strip().rpartition(" ")
        if value.isdigit() and label:
            summary[label.strip()] = int(value)
    return summary


def stage_breakdown(run: dict) -> dict[str, float]:
    """Seconds per stage of the whole `newsflow ingest` process, adding up to its wall time."""
    marks, stages, wall = run["timings"]["marks_s"], run["timings"]["stages_s"], run["wall_s"]
    body = marks.get("flow_body_end", marks["cli_end"]) - marks.get("flow_body_start", marks["cli_start"])
    timed = sum(stages.values())
    out = {
        "interpreter start and imports (Prefect, trafilatura, DuckDB)": marks["imports_done"],
        "Prefect flow start (temporary API server, flow run)": marks.get("flow_body_start", marks["cli_start"])
        - marks["cli_start"],
    }
    out.update(stages)
    out["Prefect task runs and untimed glue inside the flow"] = max(0.0, body - timed)
    out["Prefect flow finish, CLI summary"] = marks["cli_end"] - marks.get("flow_body_end", marks["cli_end"])
    out["process exit (temporary server shutdown)"] = max(0.0, wall - marks["cli_end"])
    return {k: round(v, 3) for k, v in out.items()}


# ---------------------------------------------------------------- the benchmark


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=FULL_PAGES, help="unique pages to serve (default 5000)")
    parser.add_argument("--hosts", type=int, default=40, help="loopback hosts, one feed each (default 40)")
    parser.add_argument("--workers", type=int, default=2, help="processes for every system (default 2)")
    parser.add_argument("--peers", default=",".join(PEERS), help="comma-separated peers, or '' for none")
    parser.add_argument(
        "--peer-pages",
        type=int,
        help="pages for the peers and the second ceiling pass, the first M of the same pages "
        "(default: all; a multiple of 181 keeps every AEB page equally represented)",
    )
    parser.add_argument("--out", help="where to write the JSON (default benchmarks/results/throughput.json)")
    args = parser.parse_args(argv)
    if not 1 <= args.hosts <= 250:
        parser.error("--hosts must be between 1 and 250 (127.0.0.1 … 127.0.0.250)")
    peer_pages = min(args.peer_pages or args.pages, args.pages)
    out = (
        Path(args.out)
        if args.out
        else RESULTS_DIR / ("throughput.json" if args.pages >= FULL_PAGES else "throughput-quick.json")
    )
    env_info = environment()
    print(
        f"THROUGHPUT  {args.pages} pages on {args.hosts} loopback hosts, {args.workers} processes per system; "
        f"{env_info['date']}, load avg {env_info['load_avg_at_start']} on {env_info['cpus']} CPUs",
        flush=True,
    )

    work = Path(tempfile.mkdtemp(prefix="newsflow-bench-throughput-"))
    env = dict(
        os.environ,
        PREFECT_HOME=str(work / "prefect"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_LEVEL="WARNING",
        NEWSFLOW_EXTRACT_WORKERS=str(args.workers),
    )
    env.pop("PREFECT_API_URL", None)  # as a user without a server runs it: plain Python, no Prefect
    log: list[str] = []
    result: dict = {
        "pages": args.pages,
        "peer_pages": peer_pages,
        "hosts": args.hosts,
        "workers": args.workers,
        "environment": env_info,
    }
    try:
        with LoopbackWeb(args.pages, args.hosts) as web:
            feeds = work / "feeds.yaml"
            feeds.write_text(
                "feeds:\n"
                + "".join(f"  - url: {b}/feed.xml\n    name: desk {n + 1}\n" for n, b in enumerate(web.bases)),
                encoding="utf-8",
            )
            ceiling = [extract_only(sys.executable, "trafilatura", args.pages, args.workers, web.bases)]
            print(f"  ceiling, first pass: {ceiling[0]}", flush=True)
            first = ingest(work / "data", feeds, work / "timings-1.json", env)
            print(f"  newsflow ingest: {first['wall_s']:.1f} s, {first['summary']}", flush=True)
            noop = ingest(work / "data", feeds, work / "timings-2.json", env)
            print(f"  no-op ingest: {noop['wall_s']:.1f} s, {noop['summary']}", flush=True)
            # Second pass on the peers' pages, right before them: the peers' ratio to the ceiling is
            # then on the same pages even when they get a subset.
            ceiling.append(extract_only(sys.executable, "trafilatura", peer_pages, args.workers, web.bases))
            print(f"  ceiling, second pass: {ceiling[1]}", flush=True)
            peers: dict[str, dict] = {}
            for name in [p for p in args.peers.split(",") if p]:
                python, why_not = peer_python(name, log)
                peers[name] = (
                    {"skipped": why_not}
                    if python is None
                    else extract_only(python, name, peer_pages, args.workers, web.bases)
                )
                print(f"  {name}: {peers[name]}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    ceiling_ok = [c for c in ceiling if "pages_per_s" in c]
    ceiling_rate = statistics.median(c["pages_per_s"] for c in ceiling_ok)
    ceiling_cpu_rate = statistics.median(c["pages"] / c["cpu_s"] for c in ceiling_ok)
    stored = first["summary"].get("articles stored", 0)
    nf_rate = stored / first["wall_s"]
    marks = first["timings"]["marks_s"]
    body_s = marks.get("flow_body_end", 0) - marks.get("flow_body_start", 0)
    newsflow = {
        "wall_s": round(first["wall_s"], 2),
        "articles_stored": stored,
        "summary": first["summary"],
        "pages_per_s": round(nf_rate, 2),
        "pages_per_s_flow_body_only": round(stored / body_s, 2) if body_s > 0 else None,
        "cpu_s": round(first["cpu_s"], 1),
        "pages_per_cpu_s": round(stored / first["cpu_s"], 2),
        "peak_rss_mib": round(first["peak_rss_bytes"] / 2**20) if first["peak_rss_bytes"] else None,
        "stages_s": stage_breakdown(first),
        "stage_calls": first["timings"]["calls"],
    }
    result.update(
        {
            "ceiling": {
                "system": "trafilatura bare_extraction(with_metadata=True)",
                "passes": ceiling,
                "pages_per_s_median": round(ceiling_rate, 2),
                "pages_per_cpu_s_median": round(ceiling_cpu_rate, 2),
            },
            "newsflow": newsflow,
            "noop_ingest": {
                "wall_s": round(noop["wall_s"], 2),
                "summary": noop["summary"],
                "stages_s": stage_breakdown(noop),
            },
            "peers": peers,
            "ratios": {
                "newsflow_over_ceiling": round(nf_rate / ceiling_rate, 3),
                "newsflow_over_ceiling_cpu": round(newsflow["pages_per_cpu_s"] / ceiling_cpu_rate, 3),
                **{
                    f"newsflow_over_{name}": round(nf_rate / p["pages_per_s"], 3)
                    for name, p in peers.items()
                    if "pages_per_s" in p
                },
                **{
                    f"{name}_over_ceiling_same_pages": round(p["pages_per_s"] / ceiling[-1]["pages_per_s"], 3)
                    for name, p in peers.items()
                    if "pages_per_s" in p
                },
            },
            "load_avg_at_end": [round(x, 2) for x in os.getloadavg()],
            "log": log,
        }
    )
    write_json(out, result)
    print("\n".join(report(result)))
    print(f"results written to {out.relative_to(REPO) if out.is_relative_to(REPO) else out}")
    return result


def report(r: dict) -> list[str]:
    c, nf = r["ceiling"], r["newsflow"]
    rows = [
        (
            f"ceiling: {c['system']}",
            r["pages"],
            None,
            c["pages_per_s_median"],
            c["pages_per_cpu_s_median"],
            "passes "
            + ", ".join(f"{p['pages_per_s']:.1f} ({p['pages']} pages)" for p in c["passes"] if "pages_per_s" in p),
        )
    ]
    rows.append(
        (
            "newsflow ingest, feeds to committed rows",
            nf["articles_stored"],
            nf["wall_s"],
            nf["pages_per_s"],
            nf["pages_per_cpu_s"],
            f"peak RSS {nf['peak_rss_mib']} MiB; flow body alone {nf['pages_per_s_flow_body_only']} pages/s",
        )
    )
    for name, p in r["peers"].items():
        if "pages_per_s" in p:
            rows.append(
                (
                    f"{name}, extraction only",
                    p["pages"],
                    p["seconds"],
                    p["pages_per_s"],
                    round(p["pages"] / p["cpu_s"], 2),
                    f"{p['extracted']} with text",
                )
            )
        else:
            rows.append((f"{name}", None, None, None, None, f"SKIPPED: {p.get('skipped') or p.get('error')}"))
    lines = [
        f"THROUGHPUT  {r['pages']} unique AEB-derived pages, {r['hosts']} loopback hosts, "
        f"{r['workers']} processes per system; load avg {r['environment']['load_avg_at_start']} at start, "
        f"{r['load_avg_at_end']} at end",
        f"  {'system':<52} {'pages':>6} {'wall s':>7} {'pages/s':>8} {'pages/CPU-s':>11}  notes",
    ]
    for label, n, wall, rate, cpu_rate, note in rows:
        lines.append(
            f"  {label:<52} {'' if n is None else n:>6} {'' if wall is None else f'{wall:.1f}':>7} "
            f"{'' if rate is None else f'{rate:.1f}':>8} {'' if cpu_rate is None else f'{cpu_rate:.2f}':>11}  "
            f"{note}"
        )
    lines.append(f"  no-op ingest right after (nothing new, nothing due): {r['noop_ingest']['wall_s']:.1f} s wall")
    lines.append("  ratios (this run): " + ", ".join(f"{k} {v:.2f}" for k, v in r["ratios"].items()))
    lines.append("  newsflow ingest, where the wall time went (s, % of wall):")
    for stage, seconds in nf["stages_s"].items():
        lines.append(f"    {stage:<66} {seconds:7.2f} {100 * seconds / nf['wall_s']:5.1f}%")
    lines.append(
        "  no-op ingest: " + ", ".join(f"{k} {v:.2f}" for k, v in r["noop_ingest"]["stages_s"].items() if v >= 0.05)
    )
    return lines


if __name__ == "__main__":
    import signal

    # A terminated benchmark still stops its web server and children (the finally blocks run).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    main()
