"""Rate limits that fit a national service: loose per address (a carrier's shared IPv4 address
serves a neighbourhood; an IPv6 client is counted by its /64), tight per person and per e-mail
address, filings counted only when made, and a 429 that keeps every answer."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.ratelimit import address_key
from objection import limits
from objection.models import Objection
from tests.conftest import make_test_app
from tests.objection.factories import form_values, hidden, make_nir

SHARED_IPV4 = "198.51.100.7"  # one address of a mobile carrier's NAT, shared by many people


@pytest.fixture
def limited_app(database_url, tmp_path):
    """Build apps with rate limits on, as in production; tables emptied afterwards."""
    from tests.conftest import _empty_tables

    built = []

    def build(**config):
        application = make_test_app(database_url, tmp_path / f"app{len(built)}",
                                    RATELIMIT_ENABLED=True, **config)
        built.append(application)
        return application

    yield build
    for application in built:
        application.extensions["database"]["engine"].dispose()
    _empty_tables(database_url)


def _person(index: int) -> dict[str, str]:
    """A distinct woman born in March 1985 (another commune order number), her own address."""
    return form_values(nir=make_nir(f"28503750{56000 + index:05d}"),
                       email=f"personne{index}@exemple.fr")


def _client(app, address: str = SHARED_IPV4):
    """A browser at ``address`` (the test client's requests come from it)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _review(client, values: dict[str, str]):
    tokens = hidden(client.get("/opposition").get_data(as_text=True))
    return client.post("/opposition", data={**values, **tokens})


def _file(client, values: dict[str, str]):
    review = _review(client, values)
    if review.status_code != 200 or "Relisez" not in review.get_data(as_text=True):
        return review
    return client.post("/opposition/envoyer", data={
        **values, **hidden(review.get_data(as_text=True)), "action": "envoyer"})


def _filings(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Objection.id)))


def _kept(html: str, values: dict[str, str]) -> None:
    """Every answer is still in the form."""
    for name in ("nir", "birth_name", "first_names", "birth_day", "birth_month", "birth_year",
                 "email"):
        assert f'name="{name}" value="{values[name]}"' in html, name
    assert re.search(r'value="self"\s+checked', html) and re.search(r'value="F"\s+checked', html)
    assert re.search(r'id="consent"[^>]*checked', html)


def test_people_sharing_one_carrier_address_can_all_file(limited_app):
    """Fifteen people behind one shared IPv4 address file within the minute: thirty form
    POSTs, which ten a minute per address would have stopped at the sixth person."""
    app = limited_app()
    statuses = [_file(_client(app), _person(index)).status_code for index in range(15)]
    assert statuses == [303] * 15
    assert _filings(app) == 15


@pytest.mark.parametrize(("address", "key"), [
    ("203.0.113.9", "203.0.113.9"),
    ("2001:db8:1:2:a:b:c:d", "2001:db8:1:2::/64"),
    ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
    ("::ffff:203.0.113.9", "203.0.113.9"),
    ("fe80::1%eth0", "fe80::/64"),
    ("not-an-address", "not-an-address"),
])
def test_an_ipv6_client_is_counted_by_its_64(address, key):
    assert address_key(address) == key


def test_changing_address_inside_one_ipv6_64_does_not_reset_the_counters(limited_app,
                                                                          monkeypatch):
    monkeypatch.setattr(limits, "FORM_POSTS", "3 per minute")
    app = limited_app()
    codes = [_review(_client(app, f"2001:db8:1:2::{n}"), form_values(consent="")).status_code
             for n in range(1, 5)]
    assert codes == [200, 200, 200, 429]
    other_network = _review(_client(app, "2001:db8:1:3::1"), form_values(consent=""))
    assert other_network.status_code == 200


def test_a_form_with_mistakes_is_not_counted_as_a_filing(limited_app, monkeypatch):
    """Twenty forms sent back with a mistake, then the filings the address may make: the
    mistakes did not use them up. Past them, the review step says so, answers kept."""
    monkeypatch.setattr(limits, "FILINGS_PER_ADDRESS", "2 per hour")
    app = limited_app()
    client = _client(app)
    for _ in range(20):
        assert 'id="consent-error"' in _review(client, form_values(consent="")) \
            .get_data(as_text=True)
    assert [_file(client, _person(index)).status_code for index in range(2)] == [303, 303]
    refused = _review(client, _person(2))
    html = refused.get_data(as_text=True)
    assert refused.status_code == 429 and refused.headers["Cache-Control"] == "no-store"
    assert "depuis votre connexion" in html and "Vos réponses sont conservées" in html
    assert re.search(r"vous pourrez envoyer le formulaire dans (\d+ minutes|1 heure)", html)
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    _kept(html, _person(2))
    assert _filings(app) == 2


def test_the_same_form_sent_twice_counts_once(limited_app, monkeypatch):
    monkeypatch.setattr(limits, "FILINGS_PER_ADDRESS", "1 per hour")
    app = limited_app()
    client = _client(app)
    values = _person(1)
    review = _review(client, values)
    data = {**values, **hidden(review.get_data(as_text=True)), "action": "envoyer"}
    first = client.post("/opposition/envoyer", data=data)
    again = client.post("/opposition/envoyer", data=data)  # a double click
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]


@pytest.mark.parametrize(("setting", "people"), [
    # one person (one NIR) filed for from three addresses, three mailboxes
    ("FILINGS_PER_PERSON", [form_values(email=f"p{n}@exemple.fr") for n in range(3)]),
    # three people, one mailbox written three ways (case, a +tag)
    ("FILINGS_PER_EMAIL", [_person(1), _person(2) | {"email": "Boite+2@Exemple.fr"},
                           _person(3) | {"email": "boite+autre@exemple.fr"}]),
])
def test_one_person_or_one_mailbox_cannot_be_filed_for_again_and_again(limited_app,
                                                                        monkeypatch, setting,
                                                                        people):
    monkeypatch.setattr(limits, setting, "2 per day")
    if setting == "FILINGS_PER_EMAIL":
        people[0] = people[0] | {"email": "boite@exemple.fr"}
    app = limited_app()
    for index, values in enumerate(people[:2]):
        assert _file(_client(app, f"203.0.113.{index}"), values).status_code == 303
    refused = _review(_client(app, "203.0.113.99"), people[2])
    html = refused.get_data(as_text=True).replace("&#39;", "'")
    assert refused.status_code == 429
    assert 23 * 3600 < int(refused.headers["Retry-After"]) <= 24 * 3600  # "in 24 hours"
    assert "Trop de demandes ont été faites aujourd'hui pour cette personne ou avec cette " \
           "adresse électronique" in html
    _kept(html, people[2])
    assert _filings(app) == 2


def test_too_many_posts_from_one_address_show_the_form_again(limited_app, monkeypatch):
    """The per-address flood limit re-shows the form the person was filling in, every answer
    kept, with when to send it again; the follow-up keeps its reference."""
    monkeypatch.setattr(limits, "FORM_POSTS", "2 per minute")
    monkeypatch.setattr(limits, "FOLLOWUP_POSTS", "1 per minute")
    app = limited_app()
    client = _client(app)
    values = _person(1)
    for _ in range(2):
        _review(client, form_values(consent=""))
    refused = _review(client, values)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "Vos réponses sont conservées" in html and "dans 1 minute" in html
    _kept(html, values)
    english = client.post("/en/opposition", data={**values, **hidden(html)})
    assert english.status_code == 429 and "Your answers have been kept" in \
        english.get_data(as_text=True)
    tokens = hidden(client.get("/opposition/suivi").get_data(as_text=True))
    for _ in range(2):
        followup = client.post("/opposition/suivi", data={
            "reference": "OPP-0000-0000-0", "code": "AAAA-AAAA-AAAA", **tokens})
    assert followup.status_code == 429
    assert 'value="OPP-0000-0000-0"' in followup.get_data(as_text=True)


def _two_workers(limited_app, monkeypatch, storage: str) -> str:
    """File once for a person in one app (a worker), then try again in another app sharing the
    same storage: refused. Returns the first app's pseudonym for that person."""
    monkeypatch.setattr(limits, "FILINGS_PER_PERSON", "1 per day")
    first = limited_app(RATELIMIT_STORAGE_URI=storage)
    assert _file(_client(first, "203.0.113.1"), form_values()).status_code == 303
    second = limited_app(RATELIMIT_STORAGE_URI=storage)
    refused = _review(_client(second, "203.0.113.2"), form_values(email="autre@exemple.fr"))
    assert refused.status_code == 429
    with first.app_context():
        return db.session.scalar(select(Objection.pseudonym))


def _no_secret_in(keys: str, pseudonym: str) -> None:
    assert "objection-filings-person" in keys and "objection-filings-email" in keys
    for secret in (pseudonym, pseudonym[:16], "philomene", "exemple.fr", make_nir()):
        assert secret not in keys


def test_per_person_limits_hold_across_workers_in_the_default_sqlite_file(limited_app,
                                                                         monkeypatch,
                                                                         tmp_path):
    """The default storage (a SQLite file every worker of the machine shares) holds the
    person's counter, under a keyed hash: no pseudonym, e-mail address or NIR."""
    import sqlite3

    path = tmp_path / "ratelimits.sqlite3"
    pseudonym = _two_workers(limited_app, monkeypatch, f"sqlite:///{path}")
    with sqlite3.connect(path) as connection:
        keys = " ".join(row[0] for row in connection.execute("SELECT key FROM counters"))
    _no_secret_in(keys, pseudonym)


@pytest.mark.redis
def test_per_person_limits_hold_across_workers_in_redis(limited_app, monkeypatch, redis_url):
    """The same with Redis, for several hosts."""
    import redis

    pseudonym = _two_workers(limited_app, monkeypatch, redis_url)
    _no_secret_in(b" ".join(redis.Redis.from_url(redis_url).keys("*")).decode(), pseudonym)
