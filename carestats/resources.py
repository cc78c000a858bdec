"""Where the bundled data and templates live, in a wheel and in a source checkout alike."""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def bundled(name: str) -> Path:
    """Path of a top-level bundled folder (``data`` or ``templates``).

    A wheel carries them under ``carestats/_bundled`` (hatchling force-include); an editable
    install or a checkout finds them beside the package.
    """
    inside = _PKG / "_bundled" / name
    if inside.is_dir():
        return inside
    return _PKG.parent / name


def default_profile_dir() -> Path:
    return bundled("data") / "profile"


def templates_dir() -> Path:
    return bundled("templates")


def examples_dir() -> Path:
    return bundled("data") / "examples"
