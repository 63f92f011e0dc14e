"""Rate limits of the objection form and the follow-up: the figures, and the counters kept per
person and per e-mail address. Why these figures: docs/objection.md, "Abuse resistance".

Per address (IPv4, or IPv6 /64: ``core.ratelimit``), Flask-Limiter counts every POST on the
views (``FORM_POSTS``, ``FOLLOWUP_POSTS``): loose, since one IPv4 address of a mobile carrier
(carrier-grade NAT) is shared by a whole neighbourhood, and checking a form costs little.
Filings are counted here, only when one is made (a form with a mistake is not a filing), per
address, per person and per e-mail address; the form's review step checks them first, so a
filer hears of a limit before confirming. The counters live in the limiter's storage
(``RATELIMIT_STORAGE_URI``: a SQLite file every worker of the machine shares, Redis for several
hosts, or memory), under keyed hashes: neither the pseudonym nor the e-mail address is written
there.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from dataclasses import dataclass

from flask import current_app
from limits import RateLimitItem, parse_many

from core.extensions import limiter
from core.ratelimit import client_address

log = logging.getLogger(__name__)

# Every POST of the form (review and sending), valid or not, per address.
FORM_POSTS = "60 per minute;1000 per day"
# Every POST of the follow-up, per address (wrong codes also lock the reference: followup.py).
FOLLOWUP_POSTS = "30 per minute;600 per day"
# Filings made, per address, per person (the NIR's pseudonym) and per e-mail address.
FILINGS_PER_ADDRESS = "30 per hour;300 per day"
FILINGS_PER_PERSON = "10 per day"
FILINGS_PER_EMAIL = "10 per day"


def form_posts() -> str:
    """``FORM_POSTS``, read at each request (Flask-Limiter takes a callable)."""
    return FORM_POSTS


def followup_posts() -> str:
    """``FOLLOWUP_POSTS``, read at each request."""
    return FOLLOWUP_POSTS


@dataclass(frozen=True)
class Breach:
    """A filing limit reached: wait ``retry_after`` seconds. ``by_address``: the limit is the
    connection's (its exact delay may be told); otherwise it is the person's or the e-mail
    address's, whose delay would tell when someone else filed, so it is not told."""

    retry_after: int
    by_address: bool


def _keyed(kind: str, value: str) -> str:
    """A keyed hash (``SECRET_KEY``) of ``value``: the counter's name in the storage, which a
    copy of that storage cannot turn back into an e-mail address or link to a pseudonym."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"rate-limit|{kind}|{value}".encode(), hashlib.sha256).hexdigest()[:32]


def normalised_email(address: str) -> str:
    """The mailbox an address reaches, for counting: lower case, without a ``+tag``
    (``Jean.Dupont+1@Exemple.fr`` and ``jean.dupont@exemple.fr`` reach the same person)."""
    local, _, domain = address.strip().lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}" if local else address.strip().lower()


def _counters(pseudonym: str, email: str) -> list[tuple[str, str, str, bool]]:
    """(limits, counter kind, identifier, whether it is the address's) of one filing."""
    counters = [
        (FILINGS_PER_ADDRESS, "objection-filings-address", client_address(), True),
        (FILINGS_PER_PERSON, "objection-filings-person", _keyed("person", pseudonym), False),
    ]
    if email:  # a filing answered by post has no mailbox to count
        counters.append((FILINGS_PER_EMAIL, "objection-filings-email",
                         _keyed("email", normalised_email(email)), False))
    return counters


def _items(counters: list[tuple[str, str, str, bool]]):
    for limits, kind, identifier, by_address in counters:
        for item in parse_many(limits):
            yield item, kind, identifier, by_address


def _enabled() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED")) and limiter.enabled


def filing_refused(pseudonym: str, email: str) -> Breach | None:
    """The limit a new filing for this person with this address would break, if any (nothing
    is counted). A storage that does not answer refuses nothing: the right to object comes
    before the guard against abuse (a warning is logged)."""
    if not _enabled():
        return None
    breaches: list[Breach] = []
    try:
        for item, kind, identifier, by_address in _items(_counters(pseudonym, email)):
            if not limiter.limiter.test(item, kind, identifier):
                breaches.append(Breach(_retry_after(item, kind, identifier), by_address))
    except Exception as exc:  # the storage (Redis) is down: file anyway
        log.warning("filing limits not checked, storage unavailable: %s", type(exc).__name__)
        return None
    if not breaches:
        return None
    if all(breach.by_address for breach in breaches):
        return Breach(max(breach.retry_after for breach in breaches), True)
    return Breach(24 * 3600, False)


def count_filing(pseudonym: str, email: str) -> None:
    """Count a filing that was made (after its commit) against each of its limits."""
    if not _enabled():
        return
    try:
        for item, kind, identifier, _ in _items(_counters(pseudonym, email)):
            limiter.limiter.hit(item, kind, identifier)
    except Exception as exc:
        log.warning("filing not counted, storage unavailable: %s", type(exc).__name__)


def _retry_after(item: RateLimitItem, kind: str, identifier: str) -> int:
    reset = limiter.limiter.get_window_stats(item, kind, identifier).reset_time
    return max(1, int(reset - time.time()) + 1)
