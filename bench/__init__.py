"""Benchmarks that print each figure as a ratio to a bare baseline measured in the same run.

``python -m bench`` (``make bench``) runs bench.ingest, bench.leaderboard and bench.nudges when present.
The shared harness is :mod:`bench.harness`; bench/README.md documents it for bench authors.
"""
