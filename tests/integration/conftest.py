"""Fixtures shared by the integration tests that talk to /wechat as WeChat would."""

from __future__ import annotations

import pytest
from wechat_post import WeChatServer


@pytest.fixture
def wx(client, app):
    """Signed posts to /wechat through the test client (wx.say(openid, text) -> the reply)."""
    return WeChatServer(client, app.config["WECHAT_TOKEN"])
