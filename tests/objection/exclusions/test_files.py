"""The files the platform applies: signed, hashed, counted, sorted, continuous, never shaped
like a NIR; a chain of deltas applied to a full export gives the next full export; the same
state always gives the same bytes; the verifier refuses anything else."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.extensions import db
from core.logs import mask_identifiers
from objection import service
from objection.exclusions import exports, signing, verifier
from objection.exclusions.verifier import ExclusionFileError, check_chain, check_file
from tests.objection.exclusions.factories import (
    export_full,
    export_next,
    file,
    lines,
    pseudonym_of,
    write,
)

VERIFIER = Path(verifier.__file__)


@pytest.fixture
def chain(app, tmp_path) -> list[Path]:
    """full 1 (two people), delta 2 (one withdraws, one files for a project), full 2."""
    with app.app_context():
        first = file(1)
        file(2)
        db.session.commit()
        export_next(tmp_path)
        service.withdraw(db.session, first, by="citizen:web")
        file(3, project="HDH-2024-0001")
        db.session.commit()
        export_next(tmp_path)
        export_full(tmp_path)
    return [tmp_path / exports.file_name(1, "full"), tmp_path / exports.file_name(2, "delta"),
            tmp_path / exports.file_name(2, "full")]


def test_a_chain_is_proved_equal_to_the_next_full_export(app, chain):
    with app.app_context():
        proved = check_chain(chain, signing.public_key())
        assert proved[-1].startswith("exclusions-00000002-full.txt : égale à")
        people = {line.split(";")[1] for line in lines(chain[2])}
        assert people == {pseudonym_of(2), pseudonym_of(3)}
        delta = lines(chain[1])
        assert sorted(line[:1] + line.split(";")[1] for line in delta) == sorted(
            ["-" + pseudonym_of(1), "+" + pseudonym_of(3)])


def _refused(app, paths: list[Path], reason: str) -> None:
    with app.app_context(), pytest.raises(ExclusionFileError, match=reason):
        check_chain(paths, signing.public_key())


def test_a_tampered_byte_is_refused(app, chain):
    body = chain[1].read_bytes()
    position = body.rindex(b";ALL;") - 3
    replaced = b"c" if body[position:position + 1] != b"c" else b"b"
    chain[1].write_bytes(body[:position] + replaced + body[position + 1:])
    _refused(app, chain, "signature invalide")


def test_a_file_with_its_lines_reordered_is_refused(app, chain):
    header, body = chain[2].read_text("ascii").split("\n\n", 1)
    chain[2].write_text(header + "\n\n" + "\n".join(reversed(body.splitlines())) + "\n",
                        "ascii")
    _refused(app, chain, "signature invalide")


def test_files_given_out_of_order_or_with_a_gap_are_refused(app, chain, tmp_path):
    _refused(app, [chain[1], chain[0], chain[2]], "commence par une liste complète")
    with app.app_context():
        file(4)
        db.session.commit()
        export_next(tmp_path)
    third = tmp_path / exports.file_name(3, "delta")
    _refused(app, [chain[0], third], "suit la liste n° 2, pas la n° 1")  # delta 2 skipped


def _resigned(path: Path, body: list[str]) -> None:
    """``path`` rewritten with another body, its header and signature made to fit (what only
    a holder of the signing key could do)."""
    import dataclasses
    import hashlib

    header = verifier.parse_header(verifier.read_lines(path))
    text = "".join(line + "\n" for line in body)
    header = dataclasses.replace(header, lines=len(body), body_sha256=verifier.to_modhex(
        hashlib.sha256(text.encode()).hexdigest()))
    data = (header.text() + text).encode("ascii")
    path.write_bytes(data)
    path.with_name(path.name + ".sig").write_text(
        signing.signature_line(signing.sign(hashlib.sha256(data).digest())))


def test_a_full_export_that_the_chain_does_not_give_is_refused(app, chain):
    """Signature, hash and count all hold, yet a line is missing: the chain proves it."""
    with app.app_context():
        _resigned(chain[2], lines(chain[2])[1:])
        assert check_file(chain[2], signing.public_key())
    _refused(app, chain, "pas le même nombre de lignes|diffère")


def test_a_delta_that_removes_an_absent_line_is_refused(app, chain):
    with app.app_context():
        _resigned(chain[1], sorted([*lines(chain[1]), f"-;{pseudonym_of(9)};ALL;2026-01-01"],
                                   key=lambda line: (line.split(";")[2], line.split(";")[1])))
    _refused(app, chain, "retire une ligne absente")


def test_another_signing_key_is_refused(app, chain, tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    other = tmp_path / "other.pem"
    other.write_bytes(Ed25519PrivateKey.generate().public_key().public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    with pytest.raises(ExclusionFileError, match="autre clé"):
        check_file(chain[0], verifier.load_public_key(other))


def test_the_same_state_gives_the_same_bytes(app, chain, tmp_path):
    again = tmp_path / "again"
    with app.app_context():
        for sequence, kind in ((1, "full"), (2, "delta"), (2, "full")):
            written = write(sequence, kind, again)
            original = chain[0].parent / written.name
            assert written.read_bytes() == original.read_bytes()


def test_no_line_of_any_file_looks_like_a_nir(app, chain):
    for path in chain:
        text = path.read_text("ascii") + path.with_name(path.name + ".sig").read_text("ascii")
        assert mask_identifiers(text) == text
        assert not any(character.isdigit() for line in lines(path)
                       for character in line.split(";")[1])


@given(st.binary(min_size=32, max_size=32), st.sampled_from(["ALL", "HDH-2019-0001",
                                                             "HDH-2099-9999"]),
       st.dates())
def test_no_pseudonym_scope_or_date_can_make_a_nir_shaped_line(digest, scope, day):
    line = f"+;{verifier.to_modhex(digest.hex())};{scope};{day.isoformat()}"
    assert not verifier.NIR_SHAPE.search(line)
    assert mask_identifiers(line) == line


def test_the_standalone_verifier_needs_only_cryptography():
    """The platform runs verifier.py alone: it imports the standard library and
    ``cryptography``, nothing of this site."""
    tree = ast.parse(VERIFIER.read_text("utf-8"))
    roots = {alias.name.split(".")[0] for node in ast.walk(tree)
             if isinstance(node, ast.Import) for alias in node.names}
    roots |= {node.module.split(".")[0] for node in ast.walk(tree)
              if isinstance(node, ast.ImportFrom) and node.module}
    assert roots - sys.stdlib_module_names - {"__future__"} == {"cryptography"}


def test_the_standalone_verifier_runs_as_a_script(app, chain, tmp_path):
    key = tmp_path / "signing-key.pem"
    with app.app_context():
        key.write_text(signing.public_key_pem())
    run = subprocess.run([sys.executable, "-I", str(VERIFIER), "--public-key", str(key),
                          *map(str, chain)], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "Tout est valide." in run.stdout
    chain[2].write_bytes(chain[2].read_bytes()[:-10])  # truncated
    run = subprocess.run([sys.executable, "-I", str(VERIFIER), "--public-key", str(key),
                          *map(str, chain)], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 1 and "REFUSÉ" in run.stderr


def test_flask_objection_verify_says_what_it_proved(app, chain, runner):
    result = runner.invoke(args=["objection", "verify", *map(str, chain)])
    assert result.exit_code == 0, result.output
    assert "égale à exclusions-00000001-full.txt suivie de 1 liste(s)" in result.output
    result = runner.invoke(args=["objection", "verify", str(chain[1]), str(chain[0])])
    assert result.exit_code == 1
    assert "REFUSÉ" in result.output
