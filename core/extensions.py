"""Extension objects, created without an app; ``create_app`` initialises them."""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_wtf import CSRFProtect

from core import ratelimit_sqlite  # noqa: F401 -- registers the sqlite:// limits storage
from core.database import Database
from core.ratelimit import client_address

db = Database()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=client_address, default_limits=[], headers_enabled=True)
