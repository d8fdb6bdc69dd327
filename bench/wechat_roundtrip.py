"""The cost of one chat turn (issue 21): signed text messages to /wechat under gunicorn on PostgreSQL +
Redis, for linli and three yardsticks, run in rotation and repeated; prints one table.

    make bench                                  # or: .venv/bin/python bench/wechat_roundtrip.py
    BENCH_SECONDS=5 BENCH_ROUNDS=1 .venv/bin/python bench/wechat_roundtrip.py      # a quick check
    BENCH_GUNICORN="-w 4 -k sync" .venv/bin/python bench/wechat_roundtrip.py       # another worker model

The apps, each on the same gunicorn settings (default 6 workers x 2 threads, gthread, as gunicorn.conf.py):
- linli: wsgi:app, the whole turn (signature, timestamp window, replay guard, dedup, resident,
  dialog, the message and its reply committed before answering);
- peer: bench/peer_app.py, what a typical team writes (wechatpy check/parse, ORM store + session
  row, jieba keyword reply);
- floor: bench/floor_apps.py parse_insert_app, nlp.parse and one durable INSERT per message;
- echo: bench/echo_app.py, bare Flask returning the body.

The traffic is a realistic mix from BENCH_RESIDENTS (2000) bound residents of the demo community grown
by generated households (see harness.prepare_community): greetings, parking questions (还有空车位吗,
N幢还有临时车位吗), progress questions, repair dialogs (报修 → 我家 → 确认, 我家水管漏水 → 确认), bookings
(预约明天上午测血压 → 1 → 确认) and thanks. Residents talk in cohorts of 100, turn by turn, so a dialog's
turns arrive in order even in a short run (see mix); every request is a distinct message
(its own MsgId and nonce, signed just before its run). Each server first serves BENCH_WARM_SECONDS (2) of
other messages, unmeasured (a worker compiles its statements on first use); conversations are then reset
to the bot before the measured run, and no text asks for a person, so no traffic lands on the silent
staff-held path: the `empty` column is the share of replies without text, and should be 0 for every app.

Per app: req/s min/median/max over BENCH_ROUNDS (3) runs of BENCH_SECONDS (10) with
BENCH_CONNECTIONS (16), median p50 and p99, and the gunicorn processes' CPU (master + workers, from
/proc) per request; then linli's ratios to echo, floor and peer against issue 21's targets, and
(BENCH_PROBE=1, default) the latency of each kind of text through linli, measured one at a time.
BENCH_APPS=linli,peer picks apps. Other settings: see bench/harness.py. Needs wrk (apt-get install -y wrk).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # noqa: E402

APPS = {"linli": "wsgi:app", "peer": "bench.peer_app:app", "floor": "bench.floor_apps:parse_insert_app",
        "echo": "bench.echo_app:app"}
LABELS = {"linli": "linli", "peer": "peer (Flask+wechatpy+ORM+jieba)", "floor": "floor (parse + INSERT)",
          "echo": "bare Flask echo"}
COHORT, WINDOW = 100, 4  # residents talking at once, turns each before the next cohort (see mix)
BUILDINGS = ("1", "2", "3", "5", "7", "9", "10", "28", "30")
# (kind, turns, weight): a resident picks one script after another
SCRIPTS = (
    ("greeting", ("你好",), 20),
    ("parking", ("还有空车位吗",), 15),
    ("parking_building", ("{b}幢还有临时车位吗",), 15),
    ("progress", ("我报修的修好了没",), 15),
    ("repair_dialog", ("报修", "我家", "确认"), 10),
    ("repair_oneshot", ("我家水管漏水", "确认"), 5),
    ("booking", ("预约明天上午测血压", "1", "确认"), 10),
    ("thanks", ("谢谢",), 5),
)


def conversations(residents: list[dict], turns: int, seed: int = 7) -> list[list[tuple[str, str]]]:
    """For each resident, `turns` (kind, text) in the order they send them."""
    rng = random.Random(seed)
    weights = [w for _k, _t, w in SCRIPTS]
    out = []
    for _ in residents:
        said: list[tuple[str, str]] = []
        while len(said) < turns:
            kind, texts, _w = rng.choices(SCRIPTS, weights)[0]
            b = rng.choice(BUILDINGS)
            said += [(f"{kind}:{i + 1}" if len(texts) > 1 else kind, t.format(b=b)) for i, t in enumerate(texts)]
        out.append(said[:turns])
    return out


def mix(residents: list[dict], n: int, run: int) -> list[harness.Request]:
    """n signed messages. Residents come in cohorts of COHORT; a cohort sends WINDOW turns, turn by turn
    (each resident's turn t before anyone's t+1, so a resident's turns are COHORT requests apart and
    arrive in order), then the next cohort; after every cohort, the next WINDOW turns, and so on. A short
    run thus still sees whole dialogs, and a long one every resident."""
    rng = random.Random(run)
    cohorts = [residents[i:i + COHORT] for i in range(0, len(residents), COHORT)]
    rng.shuffle(cohorts)
    turns = WINDOW * -(-n // (WINDOW * len(residents)))
    said = {r["oa"]: s for r, s in zip(residents, conversations(residents, turns, seed=7 + run), strict=True)}
    ts, reqs = int(time.time()), []
    base = (int(time.time()) % 100_000) * 1_000_000_000 + run * 10_000_000
    for first in range(0, turns, WINDOW):
        for cohort in cohorts:
            order = list(cohort)
            for t in range(first, first + WINDOW):
                rng.shuffle(order)
                for r in order:
                    k = len(reqs)
                    reqs.append(harness.wechat_post(r["oa"], said[r["oa"]][t][1], base + k, f"r{run}n{k}", ts))
                    if len(reqs) == n:
                        return reqs
    return reqs


def probe(residents: list[dict], per_kind: int = 12) -> dict[str, list[float]]:
    """Latency (ms) of each kind of text through linli, one request at a time on a quiet server."""
    server = harness.Server(APPS["linli"])
    try:
        harness.reset_conversations()
        said = conversations(residents[:per_kind * 4], 12, seed=99)
        timings: dict[str, list[float]] = {}
        for t in range(12):
            for i, turns in enumerate(said):
                kind, text = turns[t]
                r = harness.wechat_post(residents[i]["oa"], text, 900_000_000_000_000 + t * 1000 + i, f"p{t}_{i}",
                                        int(time.time()))
                req = urllib.request.Request(server.base + r.path, data=r.body.encode(), headers=r.headers)
                began = time.perf_counter()
                with urllib.request.urlopen(req, timeout=30) as response:
                    response.read()
                timings.setdefault(kind, []).append((time.perf_counter() - began) * 1000)
        return timings
    finally:
        server.stop()


def main() -> None:
    harness.require_wrk()
    names = [a.strip() for a in os.environ.get("BENCH_APPS", ",".join(APPS)).split(",") if a.strip()]
    print(f"preparing {harness.RESIDENTS} bound residents on {harness.DB.rsplit('/', 1)[-1]} ...", flush=True)
    residents = harness.prepare_community(harness.build_app())
    if "peer" in names:
        os.environ["BENCH_PEER_DATABASE_URL"] = harness.DB  # read when the module is imported
        from bench import peer_app

        peer_app.seed_sessions([r["oa"] for r in residents])
    results: dict[str, list[dict]] = {LABELS[n]: [] for n in names}
    n = max(2000, harness.MAX_RATE * harness.SECONDS)
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(harness.ROUNDS):
            for name in names:  # interleaved: one run of each app, then the next round
                path = Path(tmp) / f"{name}{run}.txt"
                harness.write_requests(mix(residents, n, run * 10 + names.index(name)), path)
                server = harness.Server(APPS[name])
                try:  # warmed on other messages (its own ids), then every conversation back to the start
                    harness.warm(server, mix(residents, 3000, 500 + run * 10 + names.index(name)))
                    harness.reset_conversations()
                    stats = harness.run_wrk(server, path)
                finally:
                    server.stop()
                if name == "echo":
                    stats["wrapped"] = 0  # stateless: a repeated request costs it the same
                results[LABELS[name]].append(stats)
                print(f"  round {run + 1} {name:6s} {stats['rps']:7.0f} req/s  p50 {stats['p50']:6.1f}  "
                      f"p99 {stats['p99']:6.1f} ms  CPU {stats['cpu_ms']:.2f} ms/req  "
                      f"empty {stats['empty_share']:.1%}", flush=True)
    print()
    harness.print_table(results, (
        f"/wechat, {len(residents)} residents, realistic mix; {harness.ROUNDS} round(s) x {harness.SECONDS} s, "
        f"{harness.CONNECTIONS} connections; gunicorn {' '.join(harness.WORKERS)}; {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}"))
    if "linli" in names:
        linli = harness.median_rps(results["linli"])
        p99 = statistics.median(r["p99"] for r in results["linli"])
        cpu = statistics.median(r["cpu_ms"] for r in results["linli"])
        parts = [f"linli / {n} = {linli / harness.median_rps(results[LABELS[n]]):.2f}"
                 for n in ("echo", "floor", "peer") if n in names]
        print("ratios of median req/s: " + ";  ".join(parts))
        print(f"targets (issue 21): linli/peer >= 1.5, linli/floor >= 0.5, p99 <= 100 ms (now {p99:.0f}), "
              f"CPU <= 3.5 ms a turn (now {cpu:.2f})")
        if os.environ.get("BENCH_PROBE", "1") == "1":
            timings = probe(residents)
            print("\nlinli, one request at a time (ms): kind  median  max")
            for kind, ms in sorted(timings.items(), key=lambda kv: -statistics.median(kv[1])):
                print(f"  {kind:18s} {statistics.median(ms):7.1f} {max(ms):7.1f}   (n={len(ms)})")


if __name__ == "__main__":
    main()
