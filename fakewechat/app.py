"""A fake of WeChat's HTTP API: real paths and response shapes, deterministic answers, recorded calls.

It never imports `app`: tests, `make run` and the standalone server all use it the same way.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.wrappers import Request

DEMO_CODE = re.compile(r"^demo-(\d{4})$")  # wx.login codes of the demo's residents (w_demo_NNNN)
# Message kinds sent_messages() can filter on, by the path that sends them.
SEND_PATHS = {
    "/cgi-bin/message/custom/send": "custom",
    "/cgi-bin/message/template/send": "template",
    "/cgi-bin/message/subscribe/send": "subscribe",
    "/cgi-bin/message/send": "wecom",
}


@dataclass
class Call:
    """One request the fake received."""

    method: str
    path: str
    args: dict[str, str]
    json: Any
    errcode: int = 0
    at: float = field(default_factory=time.time)

    def __getitem__(self, key: str) -> Any:  # calls[0]["path"] reads as well as calls[0].path
        return getattr(self, key)


@dataclass
class _Failure:
    path_suffix: str
    errcode: int
    errmsg: str
    times: int


class FakeWeChat:
    """A WSGI app answering like api.weixin.qq.com and qyapi.weixin.qq.com."""

    def __init__(self, token_delay: float = 0.0, record: bool = True) -> None:
        self.base_url: str | None = None
        self.token_delay = token_delay  # seconds a token fetch takes, to widen refresh races
        self.record = record  # False (benchmarks): count requests instead of keeping each Call
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self.reset()

    # ----- test controls -------------------------------------------------------------
    def reset(self) -> None:
        """Forget every call, token and injected failure."""
        with self._lock:
            self.calls: list[Call] = []
            self.counts: dict[tuple[str, int], int] = {}  # (path, errcode) -> requests answered
            self.tokens: set[str] = set()
            self.token_fetches = 0
            self.wecom_token_fetches = 0
            self._failures: list[_Failure] = []

    def fail_next(self, path_suffix: str, errcode: int, times: int = 1, errmsg: str = "") -> None:
        """Answer the next `times` requests whose path ends with path_suffix with errcode."""
        with self._lock:
            self._failures.append(_Failure(path_suffix, errcode, errmsg or f"injected error {errcode}", times))

    def expire_tokens(self) -> None:
        """Invalidate every issued access_token (the next call with one gets 42001)."""
        with self._lock:
            self.tokens.clear()

    def calls_to(self, path_suffix: str) -> list[Call]:
        """The recorded calls whose path ends with path_suffix."""
        with self._lock:
            return [c for c in self.calls if c.path.endswith(path_suffix)]

    def sent_messages(self, kind: str | None = None) -> list[dict]:
        """Bodies of successful sends; kind is custom | template | subscribe | wecom, or None for all."""
        with self._lock:
            return [
                c.json for c in self.calls
                if c.errcode == 0 and c.path in SEND_PATHS and (kind is None or SEND_PATHS[c.path] == kind)
            ]

    # ----- serving -------------------------------------------------------------------
    def handle(self, method: str, path: str, args: dict[str, str], raw: bytes) -> tuple[int, bytes]:
        """Answer one request: (HTTP status, JSON body). Every server (WSGI, lean) goes through here."""
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                body = raw.decode("utf-8", "replace")
        call = Call(method, path, args, body)
        if self.record:
            with self._lock:
                self.calls.append(call)
        status, payload = self._answer(call)
        call.errcode = errcode = int(payload.get("errcode", 0) or 0)
        key = (path, errcode)
        with self._lock:
            self.counts[key] = self.counts.get(key, 0) + 1
        return status, json.dumps(payload, ensure_ascii=False).encode()

    def count(self, path_suffix: str = "", errcode: int | None = 0) -> int:
        """Requests answered whose path ends with path_suffix (errcode None = any outcome)."""
        with self._lock:
            return sum(n for (path, code), n in self.counts.items()
                       if path.endswith(path_suffix) and (errcode is None or code == errcode))

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        status, payload = self.handle(request.method, request.path, dict(request.args),
                                      request.get_data(cache=False))
        start_response(f"{status} {'OK' if status == 200 else 'Not Found'}", [
            ("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(payload)))])
        return [payload]

    def _answer(self, call: Call) -> tuple[int, dict]:
        handler = ROUTES.get((call.method, call.path))
        if handler is None:
            return 404, {"errcode": 40066, "errmsg": "invalid url"}
        injected = self._take_failure(call.path) if self._failures else None
        if injected is not None:
            return 200, injected
        needs_token, func = handler
        if needs_token and call.args.get("access_token") not in self.tokens:
            return 200, _err(40001, "invalid credential, access_token is invalid or not latest")
        return 200, func(self, call.args, call.json if isinstance(call.json, dict) else {})

    def _take_failure(self, path: str) -> dict | None:
        with self._lock:
            for failure in self._failures:
                if failure.times > 0 and path.endswith(failure.path_suffix):
                    failure.times -= 1
                    if failure.times == 0:
                        self._failures.remove(failure)
                    return _err(failure.errcode, failure.errmsg)
        return None

    def _issue_token(self, prefix: str) -> str:
        if self.token_delay:
            time.sleep(self.token_delay)
        token = f"{prefix}_{next(self._seq)}_{hashlib.sha1(str(time.time()).encode()).hexdigest()[:8]}"
        with self._lock:
            self.tokens.add(token)
        return token


def _err(errcode: int, errmsg: str) -> dict:
    return {"errcode": errcode, "errmsg": errmsg}


def _ok(**extra: Any) -> dict:
    return {"errcode": 0, "errmsg": "ok", **extra}


def parse_query(query: str) -> dict[str, str]:
    """A query string as a dict (last value wins, like werkzeug's args.get)."""
    return dict(parse_qsl(query, keep_blank_values=True)) if query else {}


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# ----- endpoints -------------------------------------------------------------------------
def _token(fake: FakeWeChat, args: dict, _body: dict) -> dict:
    if args.get("grant_type") != "client_credential":
        return _err(40002, "invalid grant_type")
    if not args.get("appid") or not args.get("secret"):
        return _err(41002, "appid missing")
    with fake._lock:
        fake.token_fetches += 1
    # Like the real token endpoint: success has no errcode field.
    return {"access_token": fake._issue_token("ACCESS_TOKEN"), "expires_in": 7200}


def _wecom_token(fake: FakeWeChat, args: dict, _body: dict) -> dict:
    if not args.get("corpid") or not args.get("corpsecret"):
        return _err(41004, "corpsecret missing")
    with fake._lock:
        fake.wecom_token_fetches += 1
    return _ok(access_token=fake._issue_token("WECOM_TOKEN"), expires_in=7200)


def _custom_send(_fake: FakeWeChat, _args: dict, body: dict) -> dict:
    if not body.get("touser") or not body.get("msgtype"):
        return _err(44002, "empty post data")
    return _ok()


def _template_send(fake: FakeWeChat, _args: dict, body: dict) -> dict:
    if not body.get("touser") or not body.get("template_id"):
        return _err(40037, "invalid template_id")
    return _ok(msgid=next(fake._seq))


def _subscribe_send(_fake: FakeWeChat, _args: dict, body: dict) -> dict:
    if not body.get("touser") or not body.get("template_id"):
        return _err(40037, "invalid template_id")
    return _ok()


def _jscode2session(_fake: FakeWeChat, args: dict, _body: dict) -> dict:
    code = args.get("js_code", "")
    if not args.get("appid") or not args.get("secret"):
        return _err(41002, "appid missing")
    if not code or code == "bad" or code.startswith("bad-"):
        return _err(40029, "invalid code")
    if code == "used":
        return _err(40163, "code been used")
    demo = DEMO_CODE.match(code)
    if demo:  # the demo's mini-program residents: code demo-0007 logs in as w_demo_0007 (README)
        return {"openid": f"w_demo_{demo.group(1)}", "session_key": _digest("sk:" + code)[:24],
                "unionid": f"union_w_demo_{demo.group(1)}"}
    ident = code if len(code) <= 32 else _digest(code)[:32]  # WeChat's ids are short: a long code gets a digest
    return {
        "openid": f"wxa_{ident}",
        "session_key": _digest("sk:" + code)[:24],
        "unionid": f"union_{ident}",
    }


def _sent(fake: FakeWeChat, args: dict, _body: dict) -> dict:
    """Not a WeChat path: what the fake delivered (to `touser`, from index `since`), so `flask chat` in another
    process can show what reached a resident later."""
    everything = fake.sent_messages()
    since = int(args["since"]) if args.get("since", "").isdigit() else 0
    picked = [m for m in everything[since:] if not args.get("touser") or m.get("touser") == args["touser"]]
    return _ok(messages=picked, next=len(everything))


def _phone_number(_fake: FakeWeChat, _args: dict, body: dict) -> dict:
    code = str(body.get("code", ""))
    if not code.startswith("phone-") or not code[6:].isdigit():
        return _err(40029, "invalid code")
    phone = code[6:]
    return _ok(phone_info={
        "phoneNumber": phone, "purePhoneNumber": phone, "countryCode": "86",
        "watermark": {"timestamp": int(time.time()), "appid": "wxa_fake"},
    })


def _user_info(_fake: FakeWeChat, args: dict, _body: dict) -> dict:
    openid = args.get("openid", "")
    if not openid:
        return _err(40003, "invalid openid")
    return {
        "subscribe": 1, "openid": openid, "language": "zh_CN",
        "subscribe_time": 1700000000, "unionid": f"union_{openid}", "remark": "",
        "groupid": 0, "tagid_list": [], "subscribe_scene": "ADD_SCENE_QR_CODE",
    }


def _wecom_send(_fake: FakeWeChat, _args: dict, body: dict) -> dict:
    if not body.get("touser") and not body.get("toparty") and not body.get("totag"):
        return _err(40031, "invalid user list")
    return _ok(invaliduser="", invalidparty="", invalidtag="")


# (method, path) -> (checks access_token, handler)
ROUTES: dict[tuple[str, str], tuple[bool, Callable[[FakeWeChat, dict, dict], dict]]] = {
    ("GET", "/cgi-bin/token"): (False, _token),
    ("GET", "/cgi-bin/gettoken"): (False, _wecom_token),
    ("POST", "/cgi-bin/message/custom/send"): (True, _custom_send),
    ("POST", "/cgi-bin/message/template/send"): (True, _template_send),
    ("POST", "/cgi-bin/message/subscribe/send"): (True, _subscribe_send),
    ("GET", "/sns/jscode2session"): (False, _jscode2session),
    ("POST", "/wxa/business/getuserphonenumber"): (True, _phone_number),
    ("GET", "/cgi-bin/user/info"): (True, _user_info),
    ("POST", "/cgi-bin/message/send"): (True, _wecom_send),
    ("GET", "/fake/sent"): (False, _sent),  # the fake's own record, read by `flask chat`
}
