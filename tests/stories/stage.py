"""Building the stories' throwaway app: in-memory SQLite, the embedded queue, the fake WeChat API."""

from __future__ import annotations

from app import create_app
from config import TestConfig
from stories.runner import Stage


def build_stage(fake) -> Stage:
    """A Stage on its own app (never the developer's database, never the suite's PostgreSQL)."""
    config = TestConfig(database_url="sqlite://")
    config.REDIS_URL = None  # the embedded queue: jobs run in-process, so later messages are in the fake's record
    config.WECHAT_API_BASE_URL = fake.base_url
    # a community that uses WeChat Work for its staff (the fake answers it): alerts reach doctors and stewards
    config.WECOM_CORP_ID, config.WECOM_SECRET, config.WECOM_AGENT_ID = "ww_stories", "stories-secret", "1000002"
    return Stage(create_app(config), fake)
