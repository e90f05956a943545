"""Extra checks on real outside material in ../shared/reference (skipped without it).

Every real ONS and GOV.UK record imports with no shape violation; what real data
lacks (an empty summary, a cancellation without a notice) is reported as a warning.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from publisher.config import Settings
from publisher.importers import read_file
from publisher.validation import validate_releases

from .conftest import REFERENCE, reference_dir

REAL_FILES = sorted(
    [*REFERENCE.glob("ons/*.json"), *REFERENCE.glob("govuk/*.json")]
    if REFERENCE.is_dir()
    else []
)


@pytest.mark.reference
def test_reference_folder_has_records() -> None:
    folder = reference_dir()
    assert len(list(folder.glob("ons/*.json"))) >= 5
    assert len(list(folder.glob("govuk/*.json"))) >= 3


@pytest.mark.reference
@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name)
def test_real_records_publish_without_violation(path: Path) -> None:
    reference_dir()
    settings = Settings()
    releases = read_file(str(path), settings)
    assert releases
    report = validate_releases(releases, settings)
    assert report.conforms, report.to_text()


@pytest.mark.reference
def test_what_real_data_lacks_is_a_warning() -> None:
    folder = reference_dir()
    settings = Settings()
    cancelled = folder / "ons" / "gis-ai-go__ons-releases-cancelled.json"
    report = validate_releases(read_file(str(cancelled), settings), settings)
    fields = {(r.field, r.severity) for r in report.results}
    assert ("description.cancellation_notice", "Warning") in fields
    stubbed = folder / "ons" / "florence__viewReleaseSelector_stubbedData.json"
    report = validate_releases(read_file(str(stubbed), settings), settings)
    assert ("description.summary", "Warning") in {
        (r.field, r.severity) for r in report.results
    }
