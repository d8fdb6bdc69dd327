"""Configuration classes: the environment is read once, when a Config is built."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = ROOT / "instance"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def normalise_database_url(url: str) -> str:
    """Accept postgres:// and postgresql:// and use the psycopg 3 driver we install."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


# Tuning settings read from the environment only when set; their defaults live beside the code
# that uses them (e.g. app/services/business_hours.py), so an unset variable changes nothing.
OPTIONAL_SETTINGS = (
    "ESCALATION_BUSINESS_DAYS", "ESCALATION_BUSINESS_START", "ESCALATION_BUSINESS_END",
    "ESCALATION_FIRST_RESPONSE_MINUTES", "ESCALATION_RESOLUTION_MINUTES",
    "ESCALATION_URGENT_FIRST_RESPONSE_MINUTES", "ESCALATION_URGENT_RESOLUTION_MINUTES", "ESCALATION_REPLY_LINK",
    "ESCALATION_IDLE_RETURN_HOURS",
    "TICKET_SLA_URGENT_MINUTES", "TICKET_SLA_NORMAL_MINUTES",
    "NOTIFY_DIGEST_AFTER", "CAMPAIGN_CONCURRENCY", "CAMPAIGN_BATCH_SIZE", "WECHAT_TOKEN_CACHE_SECONDS",
    "COCKPIT_MIN_GROUP_SIZE",
    # devices: the broker (mqtt://user:pass@host:port, or the parts) and the alarm and offline timings
    "MQTT_URL", "MQTT_USERNAME", "MQTT_PASSWORD", "MQTT_TOPIC_PREFIX",
    "ALARM_ESCALATE_URGENT_MINUTES", "ALARM_ESCALATE_MINUTES", "DEVICE_OFFLINE_SECONDS",
)


# The development defaults of every secret: a running service in production refuses to start with
# any of them (or with the secret unset), naming the variable. Demo credentials (the demo staff's
# passwords, the demo kiosk token and camera secrets) exist only where `flask seed-demo` ran, which
# is refused outside development.
DEV_SECRETS = {
    "SECRET_KEY": "dev-only-secret-change-me",
    "WECHAT_TOKEN": "linli-dev-token",
    "WECHAT_APP_SECRET": "dev-app-secret",
    "WXA_APP_SECRET": "dev-wxa-secret",
}
ENVIRONMENTS = ("production", "development")


class InsecureConfig(RuntimeError):
    """A production service would start with a development secret, or with none."""


def engine_options(url: str) -> dict:
    """SQLAlchemy engine options: on PostgreSQL a database that does not answer is found out in 2 s,
    well inside WeChat's 5 s. Connections are checked before use only after sitting idle
    (DB_PING_IDLE_SECONDS, see app.core.db.ping_when_idle), not on every checkout."""
    options: dict = {}
    if url.startswith("postgresql"):
        options["connect_args"] = {"connect_timeout": 2}
        # the connection used last is used next: busy ones stay warm (no idle check), spare ones age
        options["pool_use_lifo"] = True
    return options


class Config:
    """Settings for a running service, taken from environment variables.

    LINLI_ENV=development (what `make run` sets) allows the development defaults below; anything
    else is production, where every secret must be set to a value of its own.
    """

    TESTING = False

    def __init__(self) -> None:
        self.LINLI_ENV = _env("LINLI_ENV", "production")
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(
            _env("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'linli.db'}")
        )
        self.REDIS_URL = _env("REDIS_URL")  # unset = embedded mode
        self.SECRET_KEY = _env("SECRET_KEY", DEV_SECRETS["SECRET_KEY"])
        self.WECHAT_TOKEN = _env("WECHAT_TOKEN", DEV_SECRETS["WECHAT_TOKEN"])
        self.WECHAT_APP_ID = _env("WECHAT_APP_ID", "wx0000000000000000")
        self.WECHAT_APP_SECRET = _env("WECHAT_APP_SECRET", DEV_SECRETS["WECHAT_APP_SECRET"])
        self.WECHAT_AES_KEY = _env("WECHAT_AES_KEY")  # set = safe mode
        # production without AES: allowed only when said explicitly, and warned about at every start
        self.WECHAT_ALLOW_PLAIN_MODE = _env("WECHAT_ALLOW_PLAIN_MODE", "0") == "1"
        self.WXA_APP_ID = _env("WXA_APP_ID", "wxa000000000000000")
        self.WXA_APP_SECRET = _env("WXA_APP_SECRET", DEV_SECRETS["WXA_APP_SECRET"])
        self.WECHAT_API_BASE_URL = _env("WECHAT_API_BASE_URL")  # unset = api.weixin.qq.com
        self.WECHAT_TIMESTAMP_WINDOW = int(_env("WECHAT_TIMESTAMP_WINDOW", "300"))
        self.WECHAT_REPLY_BUDGET_MS = int(_env("WECHAT_REPLY_BUDGET_MS", "3500"))
        self.API_TOKEN_MAX_AGE = int(_env("API_TOKEN_MAX_AGE", str(7 * 24 * 3600)))
        self.EMBEDDED_WORKER = _env("EMBEDDED_WORKER", "1") == "1"
        self.SQLALCHEMY_ENGINE_OPTIONS = engine_options(self.SQLALCHEMY_DATABASE_URI)
        self.SQLALCHEMY_TRACK_MODIFICATIONS = False
        self.DB_PING_IDLE_SECONDS = float(_env("DB_PING_IDLE_SECONDS", "5"))
        self.MAX_CONTENT_LENGTH = 16 * 1024 * 1024  # uploads; /wechat has its own 64 KiB cap
        self.CHECK_MIGRATIONS = _env("CHECK_MIGRATIONS", "1") == "1"
        # WeChat API calls: timeout, bounded retries for retryable errors, backoff base (seconds)
        self.WECHAT_TIMEOUT = float(_env("WECHAT_TIMEOUT", "5"))
        self.WECHAT_MAX_RETRIES = int(_env("WECHAT_MAX_RETRIES", "2"))
        self.WECHAT_RETRY_BACKOFF = float(_env("WECHAT_RETRY_BACKOFF", "0.5"))
        # WeChat Work (staff alerts and answers); unset = console only
        self.WECOM_CORP_ID = _env("WECOM_CORP_ID")
        self.WECOM_SECRET = _env("WECOM_SECRET")
        self.WECOM_AGENT_ID = _env("WECOM_AGENT_ID")
        self.WECOM_TOKEN = _env("WECOM_TOKEN")
        self.WECOM_AES_KEY = _env("WECOM_AES_KEY")
        # console cookies only over HTTPS, except in development (http://127.0.0.1 on a laptop)
        default_secure = "0" if self.LINLI_ENV == "development" else "1"
        self.SESSION_COOKIE_SECURE = _env("SESSION_COOKIE_SECURE", default_secure) == "1"
        self.UPLOAD_DIR = _env("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))
        # /wechat messages that arrive while the database is down wait here (local disk, fsynced)
        self.WECHAT_JOURNAL_DIR = _env("WECHAT_JOURNAL_DIR", str(INSTANCE_DIR / "journal"))
        self.WECHAT_JOURNAL_DRAINER = True  # each web process drains it when the database is back
        # with Redis, a request that wrote jobs wakes its process's relay thread instead of pushing them itself
        self.OUTBOX_RELAY_THREAD = _env("OUTBOX_RELAY_THREAD", "1") == "1"
        for name in OPTIONAL_SETTINGS:
            if _env(name) is not None:
                setattr(self, name, _env(name))
        if _env("NOTIFY_TEMPLATE_IDS"):  # {"ticket": {"wxa": "...", "oa": "..."}, ...}
            self.NOTIFY_TEMPLATE_IDS = json.loads(_env("NOTIFY_TEMPLATE_IDS"))
        self.PARKING_STALE_MINUTES = int(_env("PARKING_STALE_MINUTES", "10"))  # older counts are "stale"

    @property
    def development(self) -> bool:
        """Whether development defaults and demo data are allowed (LINLI_ENV=development)."""
        return self.LINLI_ENV == "development"

    @property
    def embedded(self) -> bool:
        """True when no Redis is configured: jobs run in-process on a fake Redis."""
        return not self.REDIS_URL


class TestConfig(Config):
    """Settings for tests: TEST_DATABASE_URL / TEST_REDIS_URL pick the real backends."""

    TESTING = True

    def __init__(self, database_url: str | None = None, redis_url: str | None = None) -> None:
        super().__init__()
        self.LINLI_ENV = "development"  # tests seed the demo and use test secrets
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(database_url or _env("TEST_DATABASE_URL", "sqlite://"))
        self.REDIS_URL = redis_url or _env("TEST_REDIS_URL")
        self.SQLALCHEMY_ENGINE_OPTIONS = engine_options(self.SQLALCHEMY_DATABASE_URI)
        self.SECRET_KEY = "test-secret"
        self.WECHAT_TOKEN = "test-token"
        self.WECHAT_APP_ID = "wx_test_app"
        self.WECHAT_APP_SECRET = "test-app-secret"
        self.WECHAT_AES_KEY = None
        self.WXA_APP_ID = "wxa_test_app"
        self.WXA_APP_SECRET = "test-wxa-secret"
        self.EMBEDDED_WORKER = False
        self.CHECK_MIGRATIONS = False
        self.WECHAT_RETRY_BACKOFF = 0.01  # retries are tested; their sleeps need not be real
        for name in ("WECOM_CORP_ID", "WECOM_SECRET", "WECOM_AGENT_ID", "WECOM_TOKEN", "WECOM_AES_KEY"):
            setattr(self, name, None)  # tests configure WeChat Work explicitly
        self.SESSION_COOKIE_SECURE = False
        self.UPLOAD_DIR = tempfile.mkdtemp(prefix="linli-test-uploads-")
        self.WECHAT_JOURNAL_DIR = tempfile.mkdtemp(prefix="linli-test-journal-")
        self.WECHAT_JOURNAL_DRAINER = False  # tests drain when they choose (or start the thread themselves)
        self.OUTBOX_RELAY_THREAD = False  # tests relay in the request, so run_jobs finds the jobs at once
        if self.SQLALCHEMY_DATABASE_URI == "sqlite://":
            from sqlalchemy.pool import StaticPool

            self.SQLALCHEMY_ENGINE_OPTIONS = {
                "poolclass": StaticPool,
                "connect_args": {"check_same_thread": False},
            }


def check_production(settings: dict) -> list[str]:
    """Refuse a production service whose secrets are unset or development defaults (InsecureConfig names
    them); returns the warnings to log at start (plain mode allowed explicitly)."""
    if settings.get("TESTING") or settings.get("LINLI_ENV") == "development":
        return []
    if settings.get("LINLI_ENV") not in ENVIRONMENTS:
        raise InsecureConfig(f"LINLI_ENV must be one of {', '.join(ENVIRONMENTS)}, not {settings.get('LINLI_ENV')!r}")
    bad = [name for name, dev in DEV_SECRETS.items() if settings.get(name) in (None, "", dev)]
    if settings.get("WECOM_CORP_ID") and not settings.get("WECOM_SECRET"):  # WeChat Work, when configured
        bad.append("WECOM_SECRET")
    if settings.get("WECOM_TOKEN") and not settings.get("WECOM_AES_KEY"):
        bad.append("WECOM_AES_KEY")
    if len(settings.get("SECRET_KEY") or "") < 32 and "SECRET_KEY" not in bad:
        bad.append("SECRET_KEY (at least 32 characters)")
    warnings = []
    if not settings.get("WECHAT_AES_KEY"):
        if settings.get("WECHAT_ALLOW_PLAIN_MODE"):
            warnings.append("WECHAT_AES_KEY is unset: /wechat runs in plain mode, where WeChat's signature "
                            "does not cover the message body. Set the EncodingAESKey (safe mode) as soon as you can.")
        else:
            bad.append("WECHAT_AES_KEY (safe mode; or WECHAT_ALLOW_PLAIN_MODE=1 to accept plain mode)")
    if bad:
        raise InsecureConfig("refusing to start in production (LINLI_ENV is not development): set "
                             + ", ".join(bad))
    return warnings
