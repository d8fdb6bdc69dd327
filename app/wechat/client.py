"""wechatpy clients with a shared Redis token, a refresh lock, and bounded retries.

wechatpy 1.8.18 keeps no lock around token refresh and, with auto_retry, retries token
errors without limit; these subclasses do both the way wechat-notes.md asks.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import ssl
import threading
import time
import uuid
from typing import Any
from urllib.parse import urlsplit
from urllib.request import getproxies

import redis
import requests
from wechatpy import WeChatClient as _OAClient
from wechatpy.enterprise import WeChatClient as _WeComClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session.redisstorage import RedisStorage

from app.core.errors import WeChatError
from app.wechat.errcodes import BUSY, RATE_ERRORS, TOKEN_ERRORS
from app.wechat.transport import mount_base_url

log = logging.getLogger(__name__)

TOKEN_PREFIX = "wechatpy"
LOCK_TTL = 15  # seconds a refresh lock lives if its holder dies
TOKEN_EARLY_REFRESH = 300  # drop the stored token this long before WeChat expires it



class _SharedTokenMixin:
    """Token in Redis under a SET NX refresh lock; bounded retries; errors as WeChatError."""

    token_url: str
    _http: requests.Session
    session: RedisStorage
    timeout: float | None

    def _setup(self, redis_client: redis.Redis, base_url: str | None, max_retries: int, backoff: float,
               token_cache: float = 0.0) -> None:
        self.redis = redis_client
        self.token_cache = token_cache  # post_json reuses the token read from Redis this many seconds
        self._cached_token: tuple[str, float] | None = None
        self.max_retries = max_retries
        self.backoff = backoff
        self.lock_wait = max(LOCK_TTL, (self.timeout or 5) * 2)
        self.base_url = base_url
        self._conns = threading.local()  # post_json: one keep-alive connection per thread and host
        self._behind_proxy = not base_url and "https" in getproxies()  # read once: it scans os.environ
        mount_base_url(self._http, base_url)

    # ----- token ---------------------------------------------------------------------
    def _token_params(self) -> dict[str, str]:
        raise NotImplementedError

    @property
    def access_token(self) -> str:  # type: ignore[override]
        """The shared token from Redis, fetched under the lock when there is none."""
        return self.session.get(self.access_token_key) or self.refresh_token(stale=None)

    def fetch_access_token(self) -> dict:
        """Fetch a new token now (under the lock) and return it as WeChat's dict shape."""
        return {"access_token": self.refresh_token(stale=self.session.get(self.access_token_key))}

    def refresh_token(self, stale: str | None) -> str:
        """A token other than `stale`: someone else's fresh one, or one we fetch holding the lock."""
        lock_key = f"{TOKEN_PREFIX}:lock:{self.access_token_key}"
        owner = uuid.uuid4().hex
        deadline = time.monotonic() + self.lock_wait
        while True:
            current = self.session.get(self.access_token_key)
            if current and current != stale:
                return current
            if self.redis.set(lock_key, owner, nx=True, ex=LOCK_TTL):
                try:
                    current = self.session.get(self.access_token_key)  # re-check under the lock
                    if current and current != stale:
                        return current
                    return self._fetch_and_store()
                finally:
                    self._release_lock(lock_key, owner)
            if time.monotonic() > deadline:
                raise WeChatError(BUSY, "timed out waiting for another process to refresh the access_token")
            time.sleep(0.02)

    def _release_lock(self, key: str, owner: str) -> None:
        # WATCH/MULTI rather than a Lua script: fakeredis (embedded mode) has no Lua.
        with self.redis.pipeline() as pipe:
            try:
                pipe.watch(key)
                held = pipe.get(key)
                if held in (owner, owner.encode()):
                    pipe.multi()
                    pipe.delete(key)
                    pipe.execute()
                else:
                    pipe.unwatch()
            except redis.WatchError:  # expired and taken by someone else meanwhile: theirs now
                pass

    def _fetch_and_store(self) -> str:
        try:
            res = self._http.get(self.token_url, params=self._token_params(), timeout=self.timeout)
            res.raise_for_status()
            result = res.json()
        except (requests.RequestException, ValueError) as exc:
            raise WeChatError(BUSY, f"access_token fetch failed: {exc}") from exc
        if result.get("errcode"):
            raise WeChatError(int(result["errcode"]), str(result.get("errmsg", "")))
        token = result["access_token"]
        ttl = max(int(result.get("expires_in", 7200)) - TOKEN_EARLY_REFRESH, 60)
        self.session.set(self.access_token_key, token, ttl)
        log.info("fetched a new access_token for %s", self.access_token_key)
        return token

    # ----- requests with bounded retries -----------------------------------------------
    def _request(self, method: str, url_or_endpoint: str, **kwargs: Any) -> Any:
        caller_params = kwargs.get("params")
        token_refreshed = False
        attempt = 0
        while True:
            params = dict(caller_params or {}) if not isinstance(caller_params, list) else caller_params
            try:
                return super()._request(method, url_or_endpoint, **{**kwargs, "params": params})  # type: ignore[misc]
            except WeChatClientException as exc:
                code = int(exc.errcode) if exc.errcode is not None else BUSY  # None = HTTP error status
                errmsg = str(exc.errmsg or "")
                if code in TOKEN_ERRORS and not token_refreshed and isinstance(params, dict):
                    token_refreshed = True
                    self.refresh_token(stale=params.get("access_token"))
                    continue
                if exc.errcode is None:  # an HTTP error status: only a server error may pass
                    status = getattr(exc.response, "status_code", 500)
                    errmsg = f"HTTP {status}"
                    retryable = status >= 500
                else:
                    retryable = code == BUSY or code in RATE_ERRORS
            except requests.ConnectionError as exc:  # nothing reached WeChat: safe to repeat
                code, errmsg, retryable = BUSY, f"connection failed: {exc}", True
            except requests.RequestException as exc:  # e.g. read timeout: WeChat may have acted
                raise WeChatError(BUSY, f"request failed: {exc}") from exc
            except WeChatError as exc:  # from the token fetch
                code, errmsg, retryable = exc.errcode, exc.errmsg, exc.errcode == BUSY
            if not retryable or attempt >= self.max_retries:
                raise WeChatError(code, errmsg)
            delay = self.backoff * (2 ** attempt) * (2 if code in RATE_ERRORS else 1)
            log.warning("WeChat %s %s: errcode %s, retry %d in %.2fs",
                        method, url_or_endpoint, code, attempt + 1, delay)
            time.sleep(delay)
            attempt += 1


    # ----- the send hot path: a thin JSON POST ------------------------------------------------
    def post_json(self, url: str, body: dict, stop: threading.Event | None = None) -> dict:
        """POST body as JSON with the shared token over this thread's keep-alive connection.

        The same contract as post() at a fraction of its cost (no requests/wechatpy layers): a
        token error refreshes the token once and retries once; busy, rate limits, 5xx and failed
        connections are retried with backoff up to max_retries; a read timeout is not (WeChat may
        have acted); every failure is a WeChatError. Falls back to post() behind an HTTP proxy.
        With `stop` (shared by a batch's sends), a rate limit sets it and is raised at once, and no
        send retries once it is set: the batch backs off as a whole instead of hammering WeChat.
        """
        if self._behind_proxy:
            return self.post(url, data=body)
        scheme, netloc, path = self._target(url)
        payload = json.dumps(body, ensure_ascii=False).encode()
        token = self._hot_token()
        token_refreshed, attempt = False, 0
        while True:
            try:
                status, raw = self._send_once(scheme, netloc, f"{path}?access_token={token}", payload)
            except _SentAndLost as exc:  # e.g. a read timeout: WeChat may have acted
                raise WeChatError(BUSY, f"request failed: {exc.__cause__!r}") from exc
            except (OSError, http.client.HTTPException) as exc:  # nothing answered: safe to repeat
                status, raw = 0, b""
                code, errmsg, retryable = BUSY, f"connection failed: {exc!r}", True
            if status >= 400:
                code, errmsg, retryable = BUSY, f"HTTP {status}", status >= 500
            elif status:
                result = _json_object(raw)
                if result is None:  # not WeChat's JSON: report it, never repeat a send
                    raise WeChatError(BUSY, f"WeChat answered with something other than JSON: {raw[:80]!r}")
                code = int(result.get("errcode", 0) or 0)
                if code == 0:
                    return result
                errmsg = str(result.get("errmsg", code))
                retryable = code == BUSY or code in RATE_ERRORS
                if code in TOKEN_ERRORS and not token_refreshed:
                    token_refreshed = True
                    try:
                        token = self.refresh_token(stale=token)
                        self._cached_token = (token, time.monotonic())
                        continue
                    except WeChatError as exc:
                        code, errmsg, retryable = exc.errcode, exc.errmsg, exc.errcode == BUSY
            if stop is not None and code in RATE_ERRORS:
                stop.set()
            if not retryable or attempt >= self.max_retries or (stop is not None and stop.is_set()):
                raise WeChatError(code, errmsg)
            delay = self.backoff * (2 ** attempt) * (2 if code in RATE_ERRORS else 1)
            log.warning("WeChat POST %s: errcode %s, retry %d in %.2fs", path, code, attempt + 1, delay)
            time.sleep(delay)
            attempt += 1

    def _hot_token(self) -> str:
        """The shared token, re-read from Redis at most every token_cache seconds.

        A token another process replaced meanwhile is harmless: WeChat keeps the old one valid for
        five minutes, and a refused one (40001/42001) is refreshed and the send retried once.
        """
        cached = self._cached_token
        if cached is not None and self.token_cache > 0 and time.monotonic() - cached[1] < self.token_cache:
            return cached[0]
        token = self.access_token
        self._cached_token = (token, time.monotonic())
        return token

    def _target(self, url: str) -> tuple[str, str, str]:
        parts = urlsplit(url)
        if not self.base_url:
            return parts.scheme, parts.netloc, parts.path
        base = urlsplit(self.base_url)
        return base.scheme, base.netloc, base.path.rstrip("/") + parts.path

    def _connection(self, scheme: str, netloc: str, fresh: bool) -> http.client.HTTPConnection:
        conns: dict = self._conns.__dict__.setdefault("by_host", {})
        conn = conns.get((scheme, netloc))
        if conn is None or fresh:
            if conn is not None:
                conn.close()
            if scheme == "https":
                conn = _HTTPSConnection(netloc, timeout=self.timeout, context=_ssl_context())
            else:
                conn = _HTTPConnection(netloc, timeout=self.timeout)
            conns[(scheme, netloc)] = conn
        return conn

    def _send_once(self, scheme: str, netloc: str, target: str, payload: bytes) -> tuple[int, bytes]:
        """One POST; a keep-alive connection the server has closed meanwhile is reopened once."""
        for fresh in (False, True):
            conn = self._connection(scheme, netloc, fresh)
            reused = conn.sock is not None
            try:
                if not reused:
                    conn.connect()  # OSError here: nothing was sent
                    # headers and body go out in two writes: without this, Nagle + delayed ACK stall
                    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                conn.request("POST", target, payload, {"Content-Type": "application/json; charset=utf-8"})
                response = conn.getresponse()
                raw = response.read()
            except TimeoutError as exc:
                conn.close()
                raise _SentAndLost() from exc
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                conn.close()
                if reused and not fresh:
                    continue  # the idle connection was closed by the server: once more on a new one
                raise
            except (OSError, http.client.HTTPException):
                conn.close()
                raise
            if response.will_close:
                conn.close()
            return response.status, raw
        raise AssertionError("unreachable")


class _OneWrite:
    """http.client writes headers and body separately; one write saves a syscall and a packet per send."""

    _buffer: list[bytes]

    def _send_output(self, message_body=None, encode_chunked=False):  # noqa: ANN001, ANN202 - http.client's
        if isinstance(message_body, bytes) and not encode_chunked:
            self._buffer.extend((b"", b""))
            head = b"\r\n".join(self._buffer)
            del self._buffer[:]
            self.send(head + message_body)  # type: ignore[attr-defined]
            return
        super()._send_output(message_body, encode_chunked)  # type: ignore[misc]


class _HTTPConnection(_OneWrite, http.client.HTTPConnection):
    pass


class _HTTPSConnection(_OneWrite, http.client.HTTPSConnection):
    pass


class _SentAndLost(Exception):
    """The request went out but no answer came back in time."""


_ssl = threading.local()


def _ssl_context() -> ssl.SSLContext:
    if not hasattr(_ssl, "context"):
        _ssl.context = ssl.create_default_context()
    return _ssl.context


def _json_object(raw: bytes) -> dict | None:
    try:
        result = json.loads(raw)
    except ValueError:
        return None
    return result if isinstance(result, dict) else None


class OfficialAccountClient(_SharedTokenMixin, _OAClient):
    """The official account or the mini-program (same API surface, different appid)."""

    token_url = "https://api.weixin.qq.com/cgi-bin/token"

    def __init__(self, appid: str, secret: str, *, redis_client: redis.Redis, base_url: str | None = None,
                 timeout: float = 5.0, max_retries: int = 2, backoff: float = 0.5,
                 token_cache: float = 0.0) -> None:
        super().__init__(appid, secret, session=RedisStorage(redis_client, prefix=TOKEN_PREFIX),
                         timeout=timeout, auto_retry=False)
        self._setup(redis_client, base_url, max_retries, backoff, token_cache)

    def _token_params(self) -> dict[str, str]:
        return {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}


class WeComClient(_SharedTokenMixin, _WeComClient):
    """WeChat Work (企业微信) for staff notifications."""

    token_url = "https://qyapi.weixin.qq.com/cgi-bin/gettoken"

    def __init__(self, corp_id: str, secret: str, agent_id: int, *, redis_client: redis.Redis,
                 base_url: str | None = None, timeout: float = 5.0, max_retries: int = 2,
                 backoff: float = 0.5, token_cache: float = 0.0) -> None:
        super().__init__(corp_id, secret, session=RedisStorage(redis_client, prefix=TOKEN_PREFIX),
                         timeout=timeout, auto_retry=False)
        self.agent_id = agent_id
        self._setup(redis_client, base_url, max_retries, backoff, token_cache)

    def _token_params(self) -> dict[str, str]:
        return {"corpid": self.corp_id, "corpsecret": self.secret}
