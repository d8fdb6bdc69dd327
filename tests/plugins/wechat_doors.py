"""Fixtures shared by the integration tests: signed posts to /wechat (wx) and WeChat Work switched on (wecom)."""

from __future__ import annotations

import pytest
from wechat_post import WeChatServer


@pytest.fixture
def wx(client, app):
    """Signed posts to /wechat through the test client (wx.say(openid, text) -> the reply)."""
    return WeChatServer(client, app.config["WECHAT_TOKEN"])


@pytest.fixture
def wecom(app, monkeypatch):
    """WeChat Work configured for one test (the fake answers it), then unconfigured again."""
    for name, value in (("WECOM_CORP_ID", "corp"), ("WECOM_SECRET", "secret"), ("WECOM_AGENT_ID", "1000002")):
        monkeypatch.setitem(app.config, name, value)
    app.extensions.get("wechat_clients", {}).pop("wecom", None)
    yield
    app.extensions.get("wechat_clients", {}).pop("wecom", None)
