"""Shared fixtures: settings, the bundled sample, a CLI runner, fixture paths."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from publisher.config import Settings
from publisher.importers import read_file
from publisher.model import Release
from publisher.resources import sample_calendar

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
#: Real outside material (../shared/reference); tests that use it are extra checks.
REFERENCE = ROOT.parent / "shared" / "reference"


@pytest.fixture
def settings() -> Settings:
    return Settings()


@pytest.fixture(scope="session")
def sample_releases() -> list[Release]:
    return read_file(str(sample_calendar()), Settings(), "native")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def reference_dir() -> Path:
    if not REFERENCE.is_dir():
        pytest.skip(f"extra check: {REFERENCE} (real outside material) is not present")
    return REFERENCE
