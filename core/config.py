"""Layered configuration: defaults, then the environment, then an explicit override.

Three profiles, chosen by ``APP_ENV``: ``development`` (the default, works with no variable set),
``testing`` and ``production``. Production refuses to start when a secret it needs is missing,
so a forgotten variable stops the deploy instead of silently weakening the site.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from core.clock import SITE_TIME_ZONE_NAME

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Marks values that only exist so `make run` works on a laptop; production rejects them.
DEV_ONLY_MARKER = "dev-only-not-secret"


class ConfigError(RuntimeError):
    """A configuration that must not be served (raised at start-up, never at request time)."""


class BaseConfig:
    APP_ENV = "development"
    SECRET_KEY = f"{DEV_ONLY_MARKER}-session-key"
    SECRET_KEY_FALLBACKS: list[str] = []
    INSTANCE_DIR = str(PROJECT_ROOT / "instance")
    DATABASE_URL = ""  # empty means SQLite under INSTANCE_DIR
    SQLALCHEMY_ECHO = False
    SEARCH_BACKEND = "whoosh"
    SEARCH_INDEX_DIR = ""  # empty means INSTANCE_DIR/search
    CONTENT_DIR = str(PROJECT_ROOT / "content")
    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_DEFAULT_TIMEZONE = SITE_TIME_ZONE_NAME
    LANGUAGES = ("fr", "en")
    # Empty: the factory lists each package's catalogue (translations/<package>), in its order.
    BABEL_TRANSLATION_DIRECTORIES = ""
    WTF_CSRF_TIME_LIMIT = 3600 * 4
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = timedelta(hours=4)
    # Twice the 5 MB document limit: a file a little too big gets a message next to its field
    # (input kept) rather than a bare 413 page.
    MAX_CONTENT_LENGTH = 12 * 1024 * 1024
    PROXY_COUNT = 0  # number of trusted reverse proxies in front of the app
    PAGE_CACHE_ENABLED = True  # rendered public pages kept in memory (core.page_cache)
    # Empty: a SQLite file in INSTANCE_DIR every worker of the machine shares
    # (core.ratelimit_sqlite); redis://… for several machines.
    RATELIMIT_STORAGE_URI = ""
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    PREFERRED_URL_SCHEME = "http"
    SITE_URL = "http://127.0.0.1:8000"
    LOG_LEVEL = "INFO"
    # Objections: pseudonym keys ("id:base64key,id:base64key", the first one is current),
    # encryption key for the identity kept during review, mail delivery.
    PSEUDONYM_KEYS = f"dev1:{DEV_ONLY_MARKER}-pseudonym-key-0000000000000000"
    IDENTITY_ENCRYPTION_KEYS = ""  # empty: a development key derived from SECRET_KEY
    MAIL_SERVER = ""  # empty: mails are written to INSTANCE_DIR/mail
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    MAIL_SENDER = "Plateforme des données de santé <ne-pas-repondre@exemple.fr>"
    MAIL_TIMEOUT = 10
    # Exclusion lists: the Ed25519 key that signs them (base64 of its 32-byte seed) and the
    # X25519 public key the NIR is sealed to at filing, for a pseudonym key rotation
    # (objection.exclusions; production checks both through objection's check_config).
    EXCLUSION_SIGNING_KEY = f"{DEV_ONLY_MARKER}-exclusion-signing-key"
    NIR_ESCROW_PUBLIC_KEY = f"{DEV_ONLY_MARKER}-nir-escrow-key"


class DevelopmentConfig(BaseConfig):
    APP_ENV = "development"


class TestingConfig(BaseConfig):
    APP_ENV = "testing"
    TESTING = True
    WTF_CSRF_ENABLED = True
    RATELIMIT_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"


class ProductionConfig(BaseConfig):
    APP_ENV = "production"
    SESSION_COOKIE_SECURE = True
    # "__Host-": the browser keeps it only if Secure, for this exact host, on Path=/ (no
    # subdomain or plain-HTTP page can set or overwrite it). The staff cookie does the same.
    SESSION_COOKIE_NAME = "__Host-session"
    PREFERRED_URL_SCHEME = "https"
    SECRET_KEY = ""
    PSEUDONYM_KEYS = ""
    EXCLUSION_SIGNING_KEY = ""
    NIR_ESCROW_PUBLIC_KEY = ""


PROFILES: dict[str, type[BaseConfig]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}

# Variables read from the environment, with the type they are parsed to.
# Every one is listed in the README's configuration table.
ENVIRONMENT_VARIABLES: dict[str, type] = {
    "SECRET_KEY": str,
    "SECRET_KEY_FALLBACKS": list,
    "DATABASE_URL": str,
    "INSTANCE_DIR": str,
    "SEARCH_BACKEND": str,
    "SEARCH_INDEX_DIR": str,
    "SITE_URL": str,
    "PROXY_COUNT": int,
    "RATELIMIT_STORAGE_URI": str,
    "RATELIMIT_ENABLED": bool,
    "PAGE_CACHE_ENABLED": bool,
    "LOG_LEVEL": str,
    "PSEUDONYM_KEYS": str,
    "IDENTITY_ENCRYPTION_KEYS": str,
    "MAIL_SERVER": str,
    "MAIL_PORT": int,
    "MAIL_USE_TLS": bool,
    "MAIL_USERNAME": str,
    "MAIL_PASSWORD": str,
    "MAIL_SENDER": str,
    "MAIL_TIMEOUT": int,
    "EXCLUSION_SIGNING_KEY": str,
    "NIR_ESCROW_PUBLIC_KEY": str,
    "MAX_CONTENT_LENGTH": int,
}

# Production refuses to start without these: no key derived from SECRET_KEY for the identities
# kept during a review, no mail silently written to disk instead of being sent.
REQUIRED_IN_PRODUCTION = ("SECRET_KEY", "DATABASE_URL", "PSEUDONYM_KEYS",
                          "IDENTITY_ENCRYPTION_KEYS", "MAIL_SERVER")


def _parse(kind: type, raw: str) -> Any:
    if kind is bool:
        return raw.strip().lower() in {"1", "true", "yes", "on", "oui"}
    if kind is int:
        return int(raw)
    if kind is list:
        return [item.strip() for item in raw.split(",") if item.strip()]
    return raw


ConfigCheck = Callable[[Mapping[str, Any]], list[str]]


def build_config(overrides: dict[str, Any] | None = None,
                 environ: dict[str, str] | None = None,
                 checks: Iterable[ConfigCheck] = ()) -> dict[str, Any]:
    """Return the settings for one app: profile defaults, then environment, then ``overrides``.

    ``checks`` are the packages' own checks of their settings (each returns a list of
    problems); the factory passes them, so this module knows no package. In production any
    problem, missing secrets included, raises ConfigError listing them all.
    """
    environ = dict(os.environ if environ is None else environ)
    overrides = dict(overrides or {})
    profile_name = overrides.get("APP_ENV") or environ.get("APP_ENV") or "development"
    if profile_name not in PROFILES:
        raise ConfigError(
            f"APP_ENV={profile_name!r} is unknown; use one of: {', '.join(PROFILES)}."
        )
    profile = PROFILES[profile_name]
    settings = {key: getattr(profile, key) for key in dir(profile) if key.isupper()}
    for name, kind in ENVIRONMENT_VARIABLES.items():
        if name in environ and environ[name] != "":
            try:
                settings[name] = _parse(kind, environ[name])
            except ValueError as exc:
                raise ConfigError(f"{name} must be a {kind.__name__}: {exc}") from exc
    settings.update(overrides)
    settings["APP_ENV"] = profile_name
    problems = _missing_in_production(settings) if profile_name == "production" else []
    _complete(settings)
    if profile_name == "production":
        problems += [problem for check in checks for problem in check(settings)]
    if problems:
        raise ConfigError(
            "Refusing to start in production: " + "; ".join(problems) + ". "
            "Set these environment variables; see the configuration table in README.md."
        )
    return settings


def _complete(settings: dict[str, Any]) -> None:
    instance = Path(settings["INSTANCE_DIR"])
    if not settings.get("DATABASE_URL"):
        settings["DATABASE_URL"] = f"sqlite:///{instance / 'hdh.sqlite3'}"
    if not settings.get("SEARCH_INDEX_DIR"):
        settings["SEARCH_INDEX_DIR"] = str(instance / "search")
    settings.setdefault("MAIL_OUTBOX_DIR", str(instance / "mail"))
    counters = instance.resolve() / "ratelimits.sqlite3"
    settings["RATELIMIT_STORAGE_URI"] = (settings.get("RATELIMIT_STORAGE_URI")
                                         or f"sqlite:///{counters}")



def _missing_in_production(settings: dict[str, Any]) -> list[str]:
    """What production lacks or still carries from development (before defaults are filled in:
    an empty DATABASE_URL must not become the development SQLite file)."""
    problems = []
    missing = [name for name in REQUIRED_IN_PRODUCTION if not settings.get(name)]
    weak = [name for name in REQUIRED_IN_PRODUCTION
            if settings.get(name) and DEV_ONLY_MARKER in str(settings[name])]
    if missing:
        problems.append("missing: " + ", ".join(missing))
    if weak:
        problems.append("development-only values: " + ", ".join(weak))
    if settings.get("SECRET_KEY") and len(settings["SECRET_KEY"]) < 32:
        problems.append("SECRET_KEY must be at least 32 characters")
    return problems
