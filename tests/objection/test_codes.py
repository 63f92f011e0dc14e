"""Follow-up codes: a keyed hash (the key never in the database), recognised after a rotation
of SECRET_KEY, and the Argon2 hashes of earlier filings still accepted."""

from __future__ import annotations

from argon2 import PasswordHasher

from objection.references import CODE_HASH_PREFIX, code_matches, hash_code
from tests.conftest import make_test_app

CODE = "7K3M-Q9TX-4ABC"


def test_a_code_is_stored_as_a_keyed_hash(app):
    with app.test_request_context():
        stored = hash_code(CODE)
        assert stored.startswith(CODE_HASH_PREFIX) and CODE not in stored
        assert code_matches(stored, CODE)
        assert code_matches(stored, " 7k3m q9tx 4abc ")  # as people type it
        assert not code_matches(stored, "7K3M-Q9TX-4ABD")


def test_the_database_alone_cannot_check_a_code(app, database_url, tmp_path):
    with app.test_request_context():
        stored = hash_code(CODE)
    other = make_test_app(database_url, tmp_path / "other", SECRET_KEY="x" * 40)
    try:
        with other.test_request_context():
            assert not code_matches(stored, CODE)
    finally:
        other.extensions["database"]["engine"].dispose()


def test_codes_survive_a_rotation_of_the_secret_key(app, database_url, tmp_path):
    with app.test_request_context():
        stored = hash_code(CODE)
    rotated = make_test_app(database_url, tmp_path / "rotated", SECRET_KEY="n" * 40,
                            SECRET_KEY_FALLBACKS=[app.config["SECRET_KEY"]])
    try:
        with rotated.test_request_context():
            assert code_matches(stored, CODE)
            assert hash_code(CODE) != stored  # new filings use the new key
    finally:
        rotated.extensions["database"]["engine"].dispose()


def test_codes_hashed_with_argon2_before_still_open_their_filing(app):
    legacy = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1).hash(CODE)
    with app.test_request_context():
        assert code_matches(legacy, CODE)
        assert not code_matches(legacy, "7K3M-Q9TX-4ABD")
