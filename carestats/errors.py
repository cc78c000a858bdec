"""Typed errors. A ``CarestatsError`` is the tool refusing something; its message is for the user (Chinese)."""

from __future__ import annotations


class CarestatsError(Exception):
    """Base: an expected failure with a Chinese message; the CLI prints it without a traceback."""

    exit_code = 1

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class UsageError(CarestatsError):
    """Wrong options or arguments (exit 2)."""

    exit_code = 2


class ProfileError(CarestatsError):
    """The profile (units, catalogue, rules, templates) is broken (exit 2)."""

    exit_code = 2


class StoreError(CarestatsError):
    """The SQLite store cannot be used (exit 2: nothing about the returns is wrong)."""

    exit_code = 2
