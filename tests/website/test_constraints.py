"""constraints.txt pins every dependency at a version pyproject.toml allows, and is what runs.

A new release of a dependency must not change what CI tests between two identical commits
(Babel 2.19 once did, through a catalogue header): `make install` installs these exact versions,
and `make lock` is how they move.
"""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text("utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, pinned = line.partition("==")
            assert pinned, f"not an exact pin: {line!r}"
            pins[canonicalize_name(name)] = pinned
    return pins


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["test"]
    return [Requirement(spec) for spec in declared]


def test_every_declared_dependency_is_pinned_at_an_allowed_version():
    pins = _pins()
    for requirement in _declared():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not pinned in constraints.txt (make lock)"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{requirement.name}=={pins[name]} is outside {requirement.specifier} (make lock)")


def test_the_installed_versions_are_the_pinned_ones():
    mismatched = {name: (pinned, version(name)) for name, pinned in _pins().items()
                  if version(name) != pinned}
    assert not mismatched, f"installed ≠ constraints.txt (run make install): {mismatched}"
