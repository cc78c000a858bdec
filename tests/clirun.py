"""The CLI as the tests call it: typer's CliRunner on ``carestats.cli.app`` (never ``main``, which leaves the
process with ``os._exit``), arguments given as paths or numbers and passed as text."""

from __future__ import annotations

from typer.testing import CliRunner

from carestats.cli import app

runner = CliRunner()


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])
