"""linli's other hot paths under gunicorn on PostgreSQL + Redis (issue 21), with wrk; prints one table.

    BENCH_SECONDS=5 BENCH_ROUNDS=1 .venv/bin/python bench/hot_paths.py          # a quick check
    .venv/bin/python bench/hot_paths.py                                         # 3 rounds x 10 s
    BENCH_GUNICORN="-w 4 -k sync" .venv/bin/python bench/hot_paths.py           # another worker model

On the same community as bench/wechat_roundtrip.py (BENCH_RESIDENTS bound residents, each with a
mini-program token), one linli server answers, one path per wrk run, the paths in rotation:
- ticket creation through the API: POST /api/v1/tickets (a repair at home), each request from the
  next resident's token (target: >= 150/s, p99 <= 150 ms);
- a parking question in chat: /wechat with 还有空车位吗 / N幢还有临时车位吗, each a distinct signed
  message from the next resident (target: >= 300/s);
- inbox polling: the console's escalation queue JSON (GET /console/api/escalations, what the queue
  page polls every 5 s), signed in as the property desk, with 200 conversations handed to staff;
- the mini-program's open tickets: GET /api/v1/tickets?status=open (what its progress page reloads);
- activity sign-up through the API (issue 20: p95 <= 300 ms at 50 concurrent requests): POST
  /api/v1/activities/<id>/signup at SIGNUP_CONNECTIONS (50) connections, each request the next
  resident's, all for one popular activity (capacity 40; the rest are waitlisted, which takes the same
  row lock's turn), then the same spread over the demo's other upcoming activities. wrk is the client
  here, not Python threads (bench/signup_bench.py's 50 client threads share one GIL, and a response that
  arrived waits for it before its time is taken).
The mini-program has no inbox endpoint of its own (app/notify/api.py holds preferences, interests and
subscribe grants only), hence the console queue for "inbox polling".

Per path: req/s min/median/max over BENCH_ROUNDS runs, median p50/p99, gunicorn CPU per request,
errors and non-2xx answers (the error column should stay 0). Settings: see bench/harness.py.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # noqa: E402

HANDED_TO_STAFF = 200
SIGNUP_CONNECTIONS = 50
BUILDINGS = ("1", "2", "3", "5", "7", "9", "10", "28", "30")


def prepare() -> tuple[list[dict], dict[str, str], str]:
    """The community; a mini-program token per resident (wxa openid -> token); the property desk's
    console cookie; HANDED_TO_STAFF conversations handed to staff (转人工), so the queue has rows."""
    from miniprogram_api.tokens import issue_token

    app = harness.build_app()
    residents = harness.prepare_community(app)
    with app.app_context():
        tokens = {r["wxa"]: issue_token(r["wxa"]) for r in residents}
    client = app.test_client()
    for i, r in enumerate(residents[-HANDED_TO_STAFF:]):
        req = harness.wechat_post(r["oa"], "转人工", 800_000_000_000 + i, f"h{i}", int(time.time()))
        client.post(req.path, data=req.body.encode(), headers=req.headers)
    page = client.get("/console/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    answer = client.post("/console/login", data={"username": "kefu", "password": "demo-property-2026",
                                                  "csrf_token": csrf.group(1) if csrf else ""})
    cookie = client.get_cookie("session")
    if answer.status_code not in (302, 303) or cookie is None:  # a redirect to the dashboard
        raise SystemExit(f"console login failed: {answer.status_code}")
    return residents[:-HANDED_TO_STAFF], tokens, f"session={cookie.value}"


def activities() -> list[int]:
    """The demo's upcoming open activities (ids, soonest first); the first BENCH_ROUNDS are made the popular
    ones, one per run: capacity 40, nobody signed up yet."""
    from sqlalchemy import select, update

    from app.activities.models import Activity, Signup
    from app.core.clock import utcnow
    from app.core.db import db

    app = harness.build_app()
    with app.app_context():
        ids = list(db.session.scalars(select(Activity.id).where(Activity.status == "open",
                                                                Activity.starts_at > utcnow() + timedelta(hours=3))
                                      .order_by(Activity.starts_at)))
        popular = ids[:harness.ROUNDS]
        db.session.execute(Signup.__table__.delete().where(Signup.activity_id.in_(popular)))
        db.session.execute(update(Activity).where(Activity.id.in_(popular)).values(capacity=40, taken=0))
        db.session.commit()
    if len(ids) < 2 * harness.ROUNDS:
        raise SystemExit(f"the demo has {len(ids)} upcoming activities; the sign-up runs need {2 * harness.ROUNDS}")
    return ids


def paths(residents: list[dict], tokens: dict[str, str], cookie: str, n: int, run: int) -> dict:
    """name -> n requests of that path, each resident in turn."""
    ts, base = int(time.time()), (int(time.time()) % 100_000) * 1_000_000_000 + run * 10_000_000

    def api(method: str, path: str, resident: dict, body: dict | None = None) -> harness.Request:
        headers = {"Authorization": f"Bearer {tokens[resident['wxa']]}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        return harness.Request(method, path, json.dumps(body, ensure_ascii=False) if body else "", headers)

    def who(k: int) -> dict:
        return residents[k % len(residents)]

    def parking(k: int) -> str:
        return "还有空车位吗" if k % 2 else f"{BUILDINGS[k // 2 % len(BUILDINGS)]}幢还有临时车位吗"

    repair = {"kind": "repair", "category": "water", "description": "厨房水管漏水", "at_home": True}
    return {
        "ticket creation (API POST)": [api("POST", "/api/v1/tickets", who(k), repair) for k in range(n)],
        "parking question (/wechat)": [harness.wechat_post(who(k)["oa"], parking(k), base + k, f"q{run}n{k}", ts)
                                       for k in range(n)],
        "inbox poll (console queue)": [harness.Request("GET", "/console/api/escalations", "", {"Cookie": cookie})
                                       for _ in range(10)],
        "open tickets (API GET)": [api("GET", "/api/v1/tickets?status=open", who(k)) for k in range(n)],
    }


def signups(residents: list[dict], tokens: dict[str, str], activity_ids: list[int], run: int) -> dict:
    """name -> one sign-up per resident: all for this run's popular activity, then spread over the others
    (a resident signs up for a different one in each run, so no request is a repeat answered 409)."""
    def post(resident: dict, activity_id: int) -> harness.Request:
        return harness.Request("POST", f"/api/v1/activities/{activity_id}/signup", "",
                               {"Authorization": f"Bearer {tokens[resident['wxa']]}"})

    rest = activity_ids[harness.ROUNDS:]
    return {"sign-up, one popular activity": [post(r, activity_ids[run]) for r in residents],
            f"sign-up, {len(rest)} activities": [post(r, rest[(k + run) % len(rest)])
                                                 for k, r in enumerate(residents)]}


def main() -> None:
    harness.require_wrk()
    print(f"preparing {harness.RESIDENTS} bound residents on {harness.DB.rsplit('/', 1)[-1]} ...", flush=True)
    residents, tokens, cookie = prepare()
    activity_ids = activities()
    n = max(2000, harness.MAX_RATE * harness.SECONDS)
    results: dict[str, list[dict]] = {}
    server = harness.Server("wsgi:app")
    try:
        warm = paths(residents, tokens, cookie, 200, harness.ROUNDS + 1)  # unmeasured: statements compiled per worker
        harness.warm(server, [r for reqs in warm.values() for r in reqs[:200]])
        with tempfile.TemporaryDirectory() as tmp:
            for run in range(harness.ROUNDS):
                for i, (name, reqs) in enumerate(paths(residents, tokens, cookie, n, run).items()):
                    path = Path(tmp) / f"path{i}.txt"
                    harness.write_requests(reqs, path)
                    stats = harness.run_wrk(server, path)
                    if name.startswith("inbox"):
                        stats["wrapped"] = 0  # the same poll over and over is what polling is
                    results.setdefault(name, []).append(stats)
                    _line(run, name, stats)
                for name, reqs in signups(residents, tokens, activity_ids, run).items():
                    path = Path(tmp) / "signup.txt"
                    harness.write_requests(reqs, path)
                    stats = harness.run_wrk(server, path, seconds=min(harness.SECONDS, 2),
                                            connections=SIGNUP_CONNECTIONS)
                    results.setdefault(name, []).append(stats)
                    _line(run, name, stats)
    finally:
        server.stop()
    print()
    harness.print_table(results, (
        f"linli hot paths, {len(residents)} residents; {harness.ROUNDS} round(s) x {harness.SECONDS} s, "
        f"{harness.CONNECTIONS} connections; gunicorn {' '.join(harness.WORKERS)}"))
    print("targets (issue 21): ticket creation >= 150/s with p99 <= 150 ms; a parking question >= 300/s")
    for name, runs in results.items():
        if name.startswith("sign-up"):
            p95 = statistics.median(r["p95"] for r in runs)
            print(f"target (issue 20): sign-up p95 <= 300 ms at {SIGNUP_CONNECTIONS} concurrent; {name}: "
                  f"p95 {p95:.0f} ms (runs: {', '.join(str(round(r['p95'])) for r in runs)})")


def _line(run: int, name: str, stats: dict) -> None:
    print(f"  round {run + 1} {name:28s} {stats['rps']:7.0f} req/s  p50 {stats['p50']:6.1f}  p95 {stats['p95']:6.1f}  "
          f"p99 {stats['p99']:6.1f} ms  CPU {stats['cpu_ms']:.2f} ms/req  non-2xx {stats['non2xx']}", flush=True)


if __name__ == "__main__":
    main()
