"""Floors for bench/wechat_roundtrip.py: the cheapest apps that still do part of linli's job.

- insert_app: stores each posted body with one INSERT + COMMIT (raw psycopg, one connection per thread).
- parse_insert_app: the same after nlp.parse on the message's Content.

Neither checks a signature, dedups, knows the resident or answers anything useful. They show how
much of the echo baseline an app keeps once it durably writes each message (and parses it), so
linli's ratio can be read against what this machine allows at all. BENCH_FLOOR_PGOPTIONS=
"-c synchronous_commit=off" shows what giving up durability of the last moments of commits buys.
"""

from __future__ import annotations

import os
import threading
from xml.etree import ElementTree

import psycopg
from flask import Flask, request

from nlp import parse

DSN = os.environ.get("BENCH_FLOOR_DSN", "postgresql://postgres@127.0.0.1:5432/test")
_local = threading.local()

with psycopg.connect(DSN, autocommit=True) as setup:  # before gunicorn forks: no connection survives it
    setup.execute("CREATE TABLE IF NOT EXISTS bench_floor_log (id bigserial PRIMARY KEY, body text NOT NULL)")
parse("你好")  # load the dictionaries in the master, as gunicorn.conf.py does for linli


def _store(value: str) -> None:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = psycopg.connect(DSN, options=os.environ.get("BENCH_FLOOR_PGOPTIONS", ""))
    with conn.transaction():
        conn.execute("INSERT INTO bench_floor_log (body) VALUES (%s)", (value,))


insert_app = Flask("floor_insert")
parse_insert_app = Flask("floor_parse_insert")


@insert_app.post("/wechat")
def insert_only():
    body = request.get_data()
    _store(body.decode("utf-8"))
    return body, 200, {"Content-Type": "application/xml"}


@parse_insert_app.post("/wechat")
def parse_and_insert():
    body = request.get_data()
    parsed = parse(ElementTree.fromstring(body).findtext("Content") or "")
    _store(parsed.intent)
    return body, 200, {"Content-Type": "application/xml"}
