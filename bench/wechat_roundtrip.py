"""Signed text-message round trip through /wechat under gunicorn (2 workers) on PostgreSQL + Redis,
against a bare Flask echo app in the same run; prints both throughputs, their ratio and p50/p99.

It also measures two floors (bench/floor_apps.py): echo plus one durable INSERT per message, and
that plus nlp.parse. They bound the ratio any app that parses and stores each message can reach
on the machine the bench runs on; BENCH_FLOORS=0 skips them.

Needs wrk (Debian package `wrk`), PostgreSQL and Redis (BENCH_DATABASE_URL, BENCH_REDIS_URL;
defaults: the machine's `test` database and Redis db 15). Target: ratio >= 0.25, p99 <= 50 ms.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
DB = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
TOKEN = "bench-token"
CONNECTIONS, THREADS, SECONDS, REQUESTS = 16, 2, int(os.environ.get("BENCH_SECONDS", "10")), 40000
GUNICORN = ["-w", "2", "-k", "gthread", "--threads", "8", "--keep-alive", "5", "--preload", "--log-level", "warning"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def signed_requests(n: int, residents: list[str]) -> list[tuple[str, str]]:
    """n distinct signed POSTs (query string, XML body): unique nonce and MsgId each."""
    now = int(time.time())
    texts = ["你好", "3号楼电梯坏了", "30幢还有临时车位吗", "明天上午想测个血压", "谢谢", "转人工"]
    out = []
    for i in range(n):
        ts, nonce = str(now), f"n{i:08d}"
        sig = hashlib.sha1("".join(sorted([TOKEN, ts, nonce])).encode()).hexdigest()
        body = (
            f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName>"
            f"<FromUserName><![CDATA[{residents[i % len(residents)]}]]>"
            f"</FromUserName><CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{texts[i % len(texts)]}]]></Content><MsgId>{9000000000 + i}</MsgId></xml>"
        )
        out.append((f"/wechat?signature={sig}&timestamp={ts}&nonce={nonce}", body))
    return out


def _lua_string(value: str) -> str:
    """A Lua string literal holding value's UTF-8 bytes (LuaJIT has no \\u escape: JSON's would
    reach the server as the six characters \\u4f60, not as 你)."""
    return '"' + "".join(f"\\{b:03d}" if b < 32 or b in (34, 92) or b > 126 else chr(b)
                         for b in value.encode("utf-8")) + '"'


def lua_script(reqs: list[tuple[str, str]], path: Path) -> None:
    """A wrk script that cycles through the pre-signed requests."""
    lines = ["local reqs = {}"]
    for i, (url, body) in enumerate(reqs, 1):
        lines.append(f"reqs[{i}] = {{{_lua_string(url)}, {_lua_string(body)}}}")
    lines.append(
        "local i = 0\n"
        "function setup(thread) thread:set('offset', i) i = i + 1 end\n"
        "local n = 0\n"
        "function init(args) n = offset end\n"
        "function request()\n"
        f"  n = n + {THREADS}\n"
        "  local r = reqs[(n % #reqs) + 1]\n"
        "  return wrk.format('POST', r[1], {['Content-Type']='text/xml'}, r[2])\n"
        "end\n"
        "function done(summary, latency, requests)\n"
        "  io.write(string.format('JSON {\"requests\":%d,\"seconds\":%f,\"p50\":%f,\"p99\":%f,'\n"
        "    .. '\"errors\":%d,\"non2xx\":%d}\\n',\n"
        "    summary.requests, summary.duration/1e6, latency:percentile(50)/1000, latency:percentile(99)/1000,\n"
        "    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,\n"
        "    summary.errors.status))\n"
        "end\n"
    )
    path.write_text("\n".join(lines), encoding="utf-8")


def serve(app_spec: str, port: int, env: dict) -> subprocess.Popen:
    proc = subprocess.Popen(
        [PY, "-m", "gunicorn", *GUNICORN, "-b", f"127.0.0.1:{port}", app_spec],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc
        except Exception as exc:
            if getattr(exc, "code", None):  # any HTTP answer means it is up
                return proc
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"server {app_spec} did not start: {proc.stderr.read().decode()[-2000:]}")


def run_wrk(port: int, script: Path) -> dict:
    out = subprocess.run(
        ["wrk", "-t", str(THREADS), "-c", str(CONNECTIONS), "-d", f"{SECONDS}s", "--latency", "-s", str(script),
         f"http://127.0.0.1:{port}"], capture_output=True, text=True, check=True,
    ).stdout
    stats = json.loads(re.search(r"JSON (\{.*\})", out).group(1))
    stats["rps"] = stats["requests"] / stats["seconds"]
    return stats


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def prepare(env: dict) -> list[str]:
    """Fresh schema, the demo community; returns some residents' openids."""
    code = (
        "from app import create_app\nfrom app.core.db import db\nfrom sqlalchemy import text\n"
        "from flask_migrate import upgrade\nfrom app.community.models import Resident\n"
        "import app.core.redis_conn as r\n"
        "a = create_app()\n"
        "with a.app_context():\n"
        "    with db.engine.begin() as c:\n"
        "        c.execute(text('DROP SCHEMA public CASCADE')); c.execute(text('CREATE SCHEMA public'))\n"
        "    upgrade()\n"
        "    r.get_redis(a).flushdb()\n"
    )
    subprocess.run([PY, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([PY, "-m", "flask", "--app", "wsgi", "seed-demo"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    code = (
        "from app import create_app\nfrom app.core.db import db\nfrom app.community.models import Resident\n"
        "a = create_app()\nwith a.app_context():\n"
        "    rows = db.session.query(Resident).filter(Resident.oa_openid.isnot(None))\n"
        "    print('\\n'.join(r.oa_openid for r in rows))\n"
    )
    out = subprocess.run([PY, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout
    return out.split() or ["o_bench_unknown"]


def main() -> None:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    env = {**os.environ, "LINLI_ENV": "development",
           "DATABASE_URL": DB, "BENCH_FLOOR_DSN": DB, "REDIS_URL": REDIS, "WECHAT_TOKEN": TOKEN,
           "WECHAT_API_BASE_URL": "http://127.0.0.1:9", "PYTHONPATH": str(ROOT)}
    env.pop("WECHAT_AES_KEY", None)
    openids = prepare(env)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        apps = [("linli", "wsgi:app"), ("echo", "bench.echo_app:app")]
        if os.environ.get("BENCH_FLOORS", "1") == "1":
            apps += [("floor: insert", "bench.floor_apps:insert_app"),
                     ("floor: parse+insert", "bench.floor_apps:parse_insert_app")]
        for name, spec in apps:
            script = Path(tmp) / f"app{len(results)}.lua"
            lua_script(signed_requests(REQUESTS, openids), script)
            port = free_port()
            proc = serve(spec, port, env)
            try:
                results[name] = run_wrk(port, script)
            finally:
                stop(proc)
    linli, echo = results["linli"], results["echo"]
    print(f"connections={CONNECTIONS} duration={SECONDS}s gunicorn {' '.join(GUNICORN)}")
    for name, r in results.items():
        print(f"{name:20s} {r['rps']:8.0f} req/s  p50 {r['p50']:6.2f} ms  p99 {r['p99']:6.2f} ms  "
              f"errors {r['errors']} non-2xx {r['non2xx']}  ratio to echo {r['rps'] / echo['rps']:.3f}")
    print(f"ratio linli/echo = {linli['rps'] / echo['rps']:.3f} (target >= 0.25); "
          f"linli p99 = {linli['p99']:.2f} ms (target <= 50)")


if __name__ == "__main__":
    main()
