"""newsflow benchmarks: extraction quality and speed, tagging cost, end-to-end pipeline speed.

Run them all with `make bench` (or `.venv/bin/python benchmarks/run.py [--quick]`)."""
