"""The serving processes freeze their start-up heap out of the cyclic collector's walks (``GC_FREEZE``)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest

from service.config import PROJECT_ROOT, load_settings
from service.runtime import freeze_startup_heap


def test_freezing_moves_every_live_object_out_of_the_collected_generations() -> None:
    before = gc.get_freeze_count()
    try:
        frozen = freeze_startup_heap()
        assert frozen > before + 1000
        assert gc.get_freeze_count() > before  # (frozen objects that die since leave the count)
        assert sum(gc.get_count()) < frozen  # what is left to walk is only what was made since
    finally:
        gc.unfreeze()


def test_freezing_disabled_leaves_the_collector_alone() -> None:
    before = gc.get_freeze_count()
    assert freeze_startup_heap(False) == 0
    assert gc.get_freeze_count() == before


@pytest.mark.parametrize(("value", "expected"), [(None, True), ("0", False), ("false", False), ("1", True)])
def test_gc_freeze_setting_defaults_on_and_reads_the_environment(tmp_path: Path, value: str | None,
                                                                  expected: bool) -> None:
    env = {"VCC_INSTANCE_PATH": str(tmp_path)} | ({"GC_FREEZE": value} if value is not None else {})
    assert load_settings(env).gc_freeze is expected


@pytest.mark.parametrize(("value", "frozen"), [(None, True), ("0", False)])
def test_the_wsgi_entry_point_freezes_unless_told_not_to(tmp_path: Path, value: str | None, frozen: bool) -> None:
    env = {k: v for k, v in os.environ.items() if k != "GC_FREEZE"}
    env |= {"VCC_INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'w.sqlite3'}",
            "SECRET_KEY": "x" * 40, "LOG_LEVEL": "WARNING"}
    if value is not None:
        env["GC_FREEZE"] = value
    out = subprocess.run([sys.executable, "-c", "import gc, wsgi; print(gc.get_freeze_count())"], cwd=PROJECT_ROOT,
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    count = int(out.stdout.strip().splitlines()[-1])
    assert (count > 10_000) is frozen, count
