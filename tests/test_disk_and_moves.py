"""The warehouse where it is now, and the disk under it: a copied or moved data directory opens
and ingests; a read-only or full disk is named clearly before or at the first write, leaves no
half-written file, keeps what was committed, and the next run on a healthy disk completes."""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import pytest
from werkzeug import Response

from flows.ingest import ingest

from conftest import newsflow_bin, query
from newsweb import serve_site


def _run(env, *args, timeout=300):
    return subprocess.run([newsflow_bin(), *args], env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def mount_tmpfs(tmp_path):
    """Mount a small tmpfs made for this test; skip (with the reason) where mounting is not allowed."""
    mounted: list[Path] = []

    def mount(size_mb: int) -> Path:
        point = tmp_path / f"mnt{len(mounted)}"
        point.mkdir()
        result = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(point)], capture_output=True, text=True
        )
        if result.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs in this container: {result.stderr.strip() or result.returncode}")
        mounted.append(point)
        return point

    yield mount
    for point in reversed(mounted):
        subprocess.run(["umount", "-l", str(point)], capture_output=True)


def _remount(point: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(point)], check=True, capture_output=True)


def _orphans(data_dir: Path) -> list[str]:
    """Parquet files on disk that the catalog does not reference."""
    referenced = {
        Path(p).name
        for (p,) in query(
            data_dir,
            "SELECT path FROM __ducklake_metadata_lake.ducklake_data_file "
            "UNION ALL SELECT path FROM __ducklake_metadata_lake.ducklake_delete_file",
        )
    }
    return sorted(p.name for p in (data_dir / "lake" / "data").rglob("*.parquet") if p.name not in referenced)


def _serve_bulky_pages(httpserver, count: int, words: int = 4000) -> str:
    """`count` pages of incompressible made-up words, so that storing them needs real space."""
    rng = random.Random(7)
    items = []
    for n in range(count):
        paragraphs = []
        for _ in range(words // 100):
            paragraphs.append(
                " ".join(
                    "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9)))
                    for _ in range(100)
                )
                + "."
            )
        body = "".join(f"<p>{p}</p>" for p in paragraphs)
        page = (
            f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Bulletin {n}</title></head>"
            f"<body><article><h1>Bulletin number {n}</h1>{body}</article></body></html>"
        )
        path = f"/bulk/{n}.html"
        httpserver.expect_request(path).respond_with_handler(
            lambda request, page=page: Response(page, content_type="text/html; charset=utf-8")
        )
        items.append((f"Bulletin {n}", httpserver.url_for(path)))
    from newsweb import rss

    httpserver.expect_request("/bulk.xml").respond_with_data(rss(items), content_type="application/rss+xml")
    return httpserver.url_for("/bulk.xml")


@pytest.mark.prefect
def test_a_copied_then_moved_data_directory_opens_and_ingests(httpserver, prefect_api_url, tmp_path, write_feeds):
    original = tmp_path / "original"
    feeds = write_feeds(serve_site(httpserver, ["s400", "howitzers"]))
    ingest(feeds_file=str(feeds), data_dir=str(original), allow_private_networks=True)

    copy = tmp_path / "restored" / "copy"
    shutil.copytree(original, copy)
    moved = tmp_path / "renamed"
    original.rename(moved)  # the old path is gone: nothing may still point at it

    for where in (copy, moved):
        assert query(where, "SELECT count(*) FROM articles") == [(2,)]
        more = write_feeds(serve_site(httpserver, ["s400", "howitzers", "patriots"], feed_path="/more.xml"))
        totals = ingest(feeds_file=str(more), data_dir=str(where), allow_private_networks=True)
        assert totals["articles_stored"] == 1
        assert query(where, "SELECT count(*), count(DISTINCT article_id) FROM article_rows") == [(3, 3)]
        assert _orphans(where) == []


@pytest.mark.prefect
def test_a_read_only_data_directory_is_named_before_the_first_write(
    httpserver, subprocess_env, mount_tmpfs, write_feeds
):
    point = mount_tmpfs(64)
    data_dir = point / "data"
    feeds = write_feeds(serve_site(httpserver, ["s400"]))
    env = dict(subprocess_env, NEWSFLOW_MIN_FREE_DISK_MB="1")
    first = _run(env, "ingest", "--feeds", str(feeds), "--data-dir", str(data_dir), "--allow-private-networks")
    assert first.returncode == 0, first.stderr

    more = write_feeds(serve_site(httpserver, ["s400", "howitzers"], feed_path="/more.xml"))
    _remount(point, "ro")
    try:
        refused = _run(env, "ingest", "--feeds", str(more), "--data-dir", str(data_dir), "--allow-private-networks")
    finally:
        _remount(point, "rw")
    assert refused.returncode == 1
    assert f"data directory {data_dir} is read-only" in refused.stderr
    assert "Traceback" not in refused.stdout + refused.stderr and "IOException" not in refused.stderr

    again = _run(env, "ingest", "--feeds", str(more), "--data-dir", str(data_dir), "--allow-private-networks")
    assert again.returncode == 0, again.stderr
    assert query(data_dir, "SELECT count(*), count(DISTINCT article_id) FROM article_rows") == [(2, 2)]


@pytest.mark.prefect
def test_too_little_free_space_is_named_before_the_first_write(httpserver, subprocess_env, mount_tmpfs, write_feeds):
    point = mount_tmpfs(8)
    feeds = write_feeds(serve_site(httpserver, ["s400"]))
    result = _run(
        subprocess_env, "ingest", "--feeds", str(feeds), "--data-dir", str(point / "data"), "--allow-private-networks"
    )  # the default needs 64 MB free; this disk has 8
    assert result.returncode == 1
    assert (
        f"no space left on the device holding {point / 'data'}: 8 MB free, newsflow needs at least 64 MB"
        in result.stderr
    )
    assert "Traceback" not in result.stderr
    assert not (point / "data" / "lake").exists()


@pytest.mark.prefect
def test_a_disk_that_fills_mid_run_keeps_what_was_committed_and_the_next_run_completes(
    httpserver, subprocess_env, mount_tmpfs, write_feeds
):
    point = mount_tmpfs(24)
    data_dir = point / "data"
    # PREFECT_LOGGING_LEVEL as a user's `newsflow ingest` has it (the suite sets WARNING, under
    # which Prefect itself logs the failed task's traceback).
    env = dict(subprocess_env, NEWSFLOW_MIN_FREE_DISK_MB="0", NEWSFLOW_BATCH_SIZE="4", PREFECT_LOGGING_LEVEL="CRITICAL")
    small = write_feeds(serve_site(httpserver, ["s400", "howitzers", "patriots"]))
    assert (
        _run(env, "ingest", "--feeds", str(small), "--data-dir", str(data_dir), "--allow-private-networks").returncode
        == 0
    )
    before = query(data_dir, "SELECT count(*) FROM article_rows")[0][0]
    assert before == 3

    bulky = write_feeds(_serve_bulky_pages(httpserver, 24))
    ballast = point / "ballast"
    free = shutil.disk_usage(point).free
    with open(ballast, "wb") as out:  # leave about 300 KB: less than the bulky pages need
        out.write(b"\0" * max(0, free - 300 * 1024))
    full = _run(env, "ingest", "--feeds", str(bulky), "--data-dir", str(data_dir), "--allow-private-networks")
    assert full.returncode == 1, full.stdout + full.stderr
    assert f"no space left on the device holding {data_dir}" in full.stderr
    assert "free space and run again" in full.stderr
    assert "Traceback" not in full.stderr and "IOException" not in full.stderr

    ballast.unlink()
    assert _orphans(data_dir) == []  # nothing half-written left behind
    kept = query(data_dir, "SELECT count(*), count(DISTINCT article_id) FROM article_rows")[0]
    assert kept[0] == kept[1] >= before  # what was committed is kept, nothing doubled

    again = _run(env, "ingest", "--feeds", str(bulky), "--data-dir", str(data_dir), "--allow-private-networks", "--all")
    assert again.returncode == 0, again.stderr
    assert query(data_dir, "SELECT count(*), count(DISTINCT article_id) FROM article_rows") == [(27, 27)]
    assert query(
        data_dir,
        "SELECT count(*) FROM (SELECT url FROM fetch_outcomes WHERE outcome = 'stored' "
        "GROUP BY url HAVING count(*) > 1)",
    ) == [(0,)]
    assert _orphans(data_dir) == []


def test_a_write_that_fills_the_disk_leaves_no_half_written_file(mount_tmpfs):
    from warehouse.storage import StorageError
    from warehouse.store import Warehouse

    point = mount_tmpfs(3)
    warehouse = Warehouse(point / "data" / "lake", min_free_disk_mb=0)
    try:
        warehouse.con.execute("CREATE TABLE IF NOT EXISTS bulk (s VARCHAR)")
        fill = "INSERT INTO bulk SELECT md5(range::varchar) || repeat(md5(random()::varchar), 20) FROM range(3000)"
        with pytest.raises(StorageError, match=f"no space left on the device holding {point / 'data'}"):
            for _ in range(40):
                warehouse._transaction(lambda con: con.execute(fill))
        committed = warehouse.con.execute("SELECT count(*) FROM bulk").fetchone()[0]
    finally:
        warehouse.close()
    assert committed >= 3000  # the batches before the disk filled are kept
    assert _orphans(point / "data") == []
