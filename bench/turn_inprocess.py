"""One chat turn in-process on PostgreSQL (issue 15's "no slower than today"): signed /wechat posts through
Flask's test client, no HTTP server, so the figures are the turn itself; p50 and p99 per kind of message.

    .venv/bin/python bench/turn_inprocess.py             # BENCH_DATABASE_URL (rebuilt!), BENCH_REDIS_URL
    TURNS=400 .venv/bin/python bench/turn_inprocess.py   # turns per kind

Kinds: a greeting, a parking question, a progress question, the three turns of a repair dialog
(我家水管漏水了 → 确认) and a booking (预约明天上午测血压 → 1 → 确认), each from its own residents.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # noqa: E402

TURNS = int(os.environ.get("TURNS", "300"))
KINDS = {  # name -> the turns one resident sends, in order; each turn is timed under "name:index"
    "greeting": ["你好"],
    "parking": ["还有空车位吗"],
    "progress": ["我报修的进度怎么样了"],
    "repair": ["我家水管漏水了", "确认"],
    "booking": ["预约明天上午测血压", "1", "确认"],
}


def main() -> None:
    os.environ.update({"LINLI_ENV": "development", "WECHAT_API_BASE_URL": "http://127.0.0.1:9",
                       "PARKING_STALE_MINUTES": "600"})
    app = harness.build_app()
    people = harness.prepare_community(app, TURNS * len(KINDS) + 50)
    client = app.test_client()
    msg = [10**9]

    def say(openid: str, text: str) -> float:
        msg[0] += 1
        r = harness.wechat_post(openid, text, msg[0], f"t{msg[0]}", int(time.time()))
        start = time.perf_counter()
        resp = client.post(r.path, data=r.body.encode(), headers=r.headers)
        took = time.perf_counter() - start
        assert resp.status_code == 200, resp.status_code
        return took

    for p in people[-50:]:  # warm caches (jieba, compiled statements, pools)
        say(p["oa"], "你好")
    timings: dict[str, list[float]] = {}
    cpu0 = time.process_time()
    total = 0
    for k, (kind, texts) in enumerate(KINDS.items()):
        for person in people[k * TURNS:(k + 1) * TURNS]:
            for i, text in enumerate(texts):
                timings.setdefault(f"{kind}:{i + 1} {text}", []).append(say(person["oa"], text))
                total += 1
    cpu = (time.process_time() - cpu0) / total
    print(f"{total} turns, {TURNS} residents per kind; process CPU {cpu * 1000:.2f} ms per turn")
    print(f"{'turn':<28} {'p50 ms':>8} {'p99 ms':>8}")
    everything = []
    for name, values in timings.items():
        values.sort()
        everything += values
        print(f"{name:<28} {values[len(values) // 2] * 1000:>8.1f} {values[int(len(values) * .99)] * 1000:>8.1f}")
    everything.sort()
    p99 = everything[int(len(everything) * .99)]
    print(f"{'all':<28} {statistics.median(everything) * 1000:>8.1f} {p99 * 1000:>8.1f}")


if __name__ == "__main__":
    main()
