"""A production service refuses development secrets; development is declared, and only there is the demo."""

from __future__ import annotations

import logging

import pytest

import config as settings
from app import create_app
from config import DEV_SECRETS, Config, InsecureConfig, check_production

GOOD = {"SECRET_KEY": "k" * 48, "WECHAT_TOKEN": "prod-token-8f2c", "WECHAT_APP_SECRET": "prod-app-secret-77",
        "WXA_APP_SECRET": "prod-wxa-secret-91", "WECHAT_AES_KEY": "a" * 43}


def production(**overrides) -> Config:
    """A production Config on in-memory SQLite, with good secrets unless overridden."""
    config = Config()
    config.LINLI_ENV = "production"
    config.SQLALCHEMY_DATABASE_URI = "sqlite://"
    config.REDIS_URL = None
    for name, value in {**GOOD, **overrides}.items():
        setattr(config, name, value)
    return config


def test_development_secrets_are_refused_by_name():
    with pytest.raises(InsecureConfig) as refused:
        create_app(production(**DEV_SECRETS))
    for name in DEV_SECRETS:
        assert name in str(refused.value)


def test_unset_secrets_and_short_keys_are_refused():
    with pytest.raises(InsecureConfig, match="WXA_APP_SECRET"):
        create_app(production(WXA_APP_SECRET=None))
    with pytest.raises(InsecureConfig, match="SECRET_KEY"):
        create_app(production(SECRET_KEY="short-but-not-default"))


def test_plain_mode_needs_saying_so_and_is_warned_about(caplog):
    with pytest.raises(InsecureConfig, match="WECHAT_AES_KEY"):
        create_app(production(WECHAT_AES_KEY=None))
    caplog.set_level(logging.WARNING, logger="app")
    create_app(production(WECHAT_AES_KEY=None, WECHAT_ALLOW_PLAIN_MODE=True))
    assert any("plain mode" in r.getMessage() for r in caplog.records)


def test_wechat_work_when_configured_needs_its_secret():
    assert check_production({**GOOD, "LINLI_ENV": "production"}) == []
    with pytest.raises(InsecureConfig, match="WECOM_SECRET"):
        check_production({**GOOD, "LINLI_ENV": "production", "WECOM_CORP_ID": "ww1"})


def test_a_good_production_config_starts():
    app = create_app(production())
    assert app.config["LINLI_ENV"] == "production"


def test_an_unknown_environment_is_refused():
    with pytest.raises(InsecureConfig, match="LINLI_ENV"):
        create_app(production(LINLI_ENV="prod"))


def test_the_demo_is_seeded_only_in_development(fake_wechat):
    app = create_app(production())
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0 and "LINLI_ENV=development" in result.output
    assert settings.TestConfig().LINLI_ENV == "development"  # the suite seeds demos with test secrets
