"""The moved-clock pass (`make test-moved-clock`): with this folder on PYTHONPATH and
LINLI_CLOCK_SHIFT_DAYS set, every Python process of the run (pytest, its xdist workers, the
`flask worker` and `devserver.py` subprocesses some tests start) begins that many days ahead,
through time-machine, so a test that only passes on today's date fails here.

Debian's faketime (libfaketime 0.9.10) was tried first: with the monotonic clock faked, Python's
threading.Event.wait never returns; with it left alone, time.sleep fails with EINVAL.
"""

import os

_days = os.environ.get("LINLI_CLOCK_SHIFT_DAYS")
if _days:
    from datetime import UTC, datetime, timedelta

    import time_machine

    time_machine.travel(datetime.now(UTC) + timedelta(days=float(_days)), tick=True).start()
