"""A requests adapter that sends WeChat's hard-coded hosts to another base URL (the fake, a proxy)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

# Every host wechatpy 1.8.18 talks to for the official account, mini-program and WeChat Work.
WECHAT_HOSTS = ("api.weixin.qq.com", "qyapi.weixin.qq.com")


class RewriteHostAdapter(HTTPAdapter):
    """Rewrite scheme and host of each request to base_url, keeping path and query."""

    def __init__(self, base_url: str, **kwargs) -> None:
        super().__init__(**kwargs)
        parts = urlsplit(base_url)
        self._scheme, self._netloc = parts.scheme, parts.netloc
        self._prefix = parts.path.rstrip("/")

    def rewrite(self, url: str) -> str:
        """The URL this adapter sends `url` to."""
        parts = urlsplit(url)
        return urlunsplit((self._scheme, self._netloc, self._prefix + parts.path, parts.query, parts.fragment))

    def send(self, request: requests.PreparedRequest, **kwargs) -> requests.Response:  # type: ignore[override]
        request.url = self.rewrite(request.url or "")
        return super().send(request, **kwargs)


def mount_base_url(http: requests.Session, base_url: str | None) -> None:
    """Point every WeChat host on this session at base_url (no-op when base_url is empty)."""
    if not base_url:
        return
    adapter = RewriteHostAdapter(base_url)
    for host in WECHAT_HOSTS:
        http.mount(f"https://{host}/", adapter)
        http.mount(f"http://{host}/", adapter)
