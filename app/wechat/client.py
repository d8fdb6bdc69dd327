"""wechatpy clients with a shared Redis token, a refresh lock, and bounded retries.

wechatpy 1.8.18 keeps no lock around token refresh and, with auto_retry, retries token
errors without limit; these subclasses do both the way wechat-notes.md asks.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

import redis
import requests
from wechatpy import WeChatClient as _OAClient
from wechatpy.enterprise import WeChatClient as _WeComClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session.redisstorage import RedisStorage

from app.errors import WeChatError
from app.wechat.transport import mount_base_url

log = logging.getLogger(__name__)

BUSY = -1
TOKEN_ERRORS = frozenset({40001, 40014, 42001})  # refresh the token once, retry once
RATE_ERRORS = frozenset({45009, 45011})  # back off, then retry
NEVER_RETRY = frozenset({45015, 45047, 43101, 43004, 40003})  # window, count, grant, unfollowed, openid
TOKEN_PREFIX = "wechatpy"
LOCK_TTL = 15  # seconds a refresh lock lives if its holder dies
TOKEN_EARLY_REFRESH = 300  # drop the stored token this long before WeChat expires it



class _SharedTokenMixin:
    """Token in Redis under a SET NX refresh lock; bounded retries; errors as WeChatError."""

    token_url: str
    _http: requests.Session
    session: RedisStorage
    timeout: float | None

    def _setup(self, redis_client: redis.Redis, base_url: str | None, max_retries: int, backoff: float) -> None:
        self.redis = redis_client
        self.max_retries = max_retries
        self.backoff = backoff
        self.lock_wait = max(LOCK_TTL, (self.timeout or 5) * 2)
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


class OfficialAccountClient(_SharedTokenMixin, _OAClient):
    """The official account or the mini-program (same API surface, different appid)."""

    token_url = "https://api.weixin.qq.com/cgi-bin/token"

    def __init__(self, appid: str, secret: str, *, redis_client: redis.Redis, base_url: str | None = None,
                 timeout: float = 5.0, max_retries: int = 2, backoff: float = 0.5) -> None:
        super().__init__(appid, secret, session=RedisStorage(redis_client, prefix=TOKEN_PREFIX),
                         timeout=timeout, auto_retry=False)
        self._setup(redis_client, base_url, max_retries, backoff)

    def _token_params(self) -> dict[str, str]:
        return {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}


class WeComClient(_SharedTokenMixin, _WeComClient):
    """WeChat Work (企业微信) for staff notifications."""

    token_url = "https://qyapi.weixin.qq.com/cgi-bin/gettoken"

    def __init__(self, corp_id: str, secret: str, agent_id: int, *, redis_client: redis.Redis,
                 base_url: str | None = None, timeout: float = 5.0, max_retries: int = 2,
                 backoff: float = 0.5) -> None:
        super().__init__(corp_id, secret, session=RedisStorage(redis_client, prefix=TOKEN_PREFIX),
                         timeout=timeout, auto_retry=False)
        self.agent_id = agent_id
        self._setup(redis_client, base_url, max_retries, backoff)

    def _token_params(self) -> dict[str, str]:
        return {"corpid": self.corp_id, "corpsecret": self.secret}
