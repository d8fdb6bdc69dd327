"""The one clock: every helper derives from app.core.clock.now, which the test clock moves."""

from __future__ import annotations

import os
from datetime import timedelta

from app.core import clock as timeutil


def test_helpers_agree_with_the_one_clock(clock):
    moment = clock.at(23, 30)
    assert abs(timeutil.utcnow() - moment) < timedelta(seconds=5)
    assert timeutil.local_now().hour == 23 and timeutil.local_now().minute in (30, 31)
    assert abs(timeutil.unix_seconds() - timeutil.now().timestamp()) < 1


def test_the_clock_keeps_ticking_after_a_move(clock):
    import time

    clock.at(9, 0, days=3)
    before = timeutil.utcnow()
    time.sleep(0.05)
    assert timeutil.utcnow() > before  # waits and timeouts still work on a moved clock


def test_the_moved_clock_pass_really_moves_the_clock(tmp_path):
    """A file's mtime comes from the kernel's real clock, which time-machine does not move."""
    probe = tmp_path / "now"
    probe.write_text("x")
    real = probe.stat().st_mtime
    shift_days = float(os.environ.get("LINLI_CLOCK_SHIFT_DAYS") or 0)
    ahead = timeutil.unix_seconds() - real
    assert abs(ahead - shift_days * 86400) < 3600, (ahead, shift_days)
