"""GOV.UK statistics announcement importer."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from publisher.config import Settings
from publisher.errors import InputError
from publisher.importers import (
    detect_format,
    govuk,
    ons_api,
    ons_legacy,
    parse_document,
    read_file,
)
from publisher.importers._common import Where
from publisher.model import Designation, Organization, Release, Status, Topic

FIXTURES = Path(__file__).parent / "fixtures" / "govuk"
REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
SETTINGS = Settings()
LONDON = ZoneInfo("Europe/London")


def load(name: str, settings: Settings = SETTINGS) -> list[Release]:
    return read_file(str(FIXTURES / name), settings)


def fields(release: Release) -> dict[str, str]:
    assert release.source is not None
    return dict(release.source.fields)


def fixture_data(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def import_items(data: Any, settings: Settings = SETTINGS) -> list[Release]:
    return govuk.releases_from_document(data, file="items.json", settings=settings)


def item(**details: Any) -> dict[str, Any]:
    """A confirmed announcement, with ``details`` changed (None removes a key)."""
    data: dict[str, Any] = copy.deepcopy(fixture_data("confirmed.json"))
    for key, value in details.items():
        if value is None:
            data["details"].pop(key, None)
        else:
            data["details"][key] = value
    return data


# --- detection -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "confirmed.json",
        "provisional-month.json",
        "provisional-range.json",
        "cancelled.json",
        "date-changed.json",
        "same-content-id.json",
        "search-results.json",
        "bad-display-date.json",
    ],
)
def test_auto_detection_picks_govuk(name: str) -> None:
    path = str(FIXTURES / name)
    data, _ = parse_document((FIXTURES / name).read_text(encoding="utf-8"), path)
    assert detect_format(data, path) == "govuk"
    assert not ons_api.looks_like(data)
    assert not ons_legacy.looks_like(data)


def test_looks_like_checks_list_items() -> None:
    announcement = fixture_data("confirmed.json")
    by_document_type = {k: v for k, v in announcement.items() if k != "schema_name"}
    assert govuk.looks_like(by_document_type)
    assert govuk.looks_like([announcement, by_document_type])
    assert govuk.looks_like({"results": [announcement]})
    news = {
        **announcement,
        "schema_name": "news_article",
        "document_type": "news_story",
    }
    assert not govuk.looks_like(news)
    assert not govuk.looks_like([announcement, news])
    assert not govuk.looks_like([])
    assert not govuk.looks_like({"results": []})
    assert not govuk.looks_like({"id": "x", "title": "X", "status": "confirmed"})


# --- the five states -----------------------------------------------------------------


def test_confirmed_announcement() -> None:
    (release,) = load("confirmed.json")
    assert release.status is Status.CONFIRMED
    assert release.slug == (
        "reported-road-casualties-great-britain-provisional-year-ending-june-2026"
    )
    assert release.identifier == "3f6a2c1e-8b4d-4e7a-9c2f-1a5b6d7e8f90"
    assert release.same_as == (
        "https://www.gov.uk/government/statistics/announcements/"
        "reported-road-casualties-great-britain-provisional-year-ending-june-2026",
    )
    assert release.title == (
        "Reported road casualties Great Britain, provisional estimates: "
        "year ending June 2026"
    )
    assert release.summary is not None and release.summary.startswith("Provisional")
    assert release.language == "en"
    assert release.release_date is not None
    assert release.release_date.isoformat() == "2026-11-26T09:30:00+00:00"
    assert release.provisional_date is None
    assert release.designation is Designation.ACCREDITED
    assert release.publisher == Organization(
        name="Department for Transport",
        url="https://www.gov.uk/government/organisations/department-for-transport",
    )
    assert release.topics == (
        Topic(slug="transport", label="Transport"),
        Topic(slug="roads-and-road-safety", label="Roads and road safety"),
    )
    assert release.date_changes == ()
    assert release.former_slugs == ()
    assert fields(release) == {
        "slug": "base_path",
        "same_as": "base_path",
        "identifier": "content_id",
        "title": "title",
        "summary": "description",
        "language": "locale",
        "release_date": "details.display_date",
        "status": "details.state",
        "designation": "details.format_sub_type",
        "publisher": "links.organisations",
        "topics": "links.policy_areas/links.taxons",
        # named even when empty, so reports use GOV.UK's names
        "published_date": "details.display_date",
        "provisional_date": "details.display_date",
        "cancellation_notice": "details.cancellation_reason",
        "date_changes": "details.previous_display_date",
    }
    assert release.source is not None
    assert release.source.index == 1
    assert release.source.record_id == (
        "/government/statistics/announcements/"
        "reported-road-casualties-great-britain-provisional-year-ending-june-2026"
    )


def test_provisional_month() -> None:
    (release,) = load("provisional-month.json")
    assert release.status is Status.PROVISIONAL
    assert release.release_date is None
    assert release.provisional_date == "January 2027"
    assert release.designation is Designation.OFFICIAL
    assert fields(release)["provisional_date"] == "details.display_date"
    assert fields(release)["release_date"] == "details.display_date"


def test_provisional_range() -> None:
    (release,) = load("provisional-range.json")
    assert release.status is Status.PROVISIONAL
    assert release.release_date is None
    assert release.provisional_date == "May to June 2027"
    assert release.designation is Designation.ACCREDITED
    assert release.publisher is not None
    assert release.publisher.name == "Department for Education"


def test_cancelled_announcement() -> None:
    (release,) = load("cancelled.json")
    assert release.status is Status.CANCELLED
    assert release.cancellation_notice == (
        "These figures will now be published as part of the Benefit expenditure and "
        "caseload tables in June 2026."
    )
    assert release.release_date is not None
    assert release.release_date.isoformat() == "2026-05-14T07:00:00+01:00"
    assert fields(release)["cancellation_notice"] == "details.cancellation_reason"


def test_date_changed_announcement_is_postponed() -> None:
    (release,) = load("date-changed.json")
    assert release.status is Status.POSTPONED
    assert release.release_date is not None
    assert release.release_date.isoformat() == "2026-06-17T12:30:00+01:00"
    (change,) = release.date_changes
    assert isinstance(change.previous_date, datetime)
    assert change.previous_date.isoformat() == "2026-06-10T09:30:00+01:00"
    assert change.reason == (
        "Moved to allow more time to quality assure the new electric vehicle series."
    )
    got = fields(release)
    assert got["release_date"] == "details.release_timestamp"
    assert got["date_changes"] == "details.previous_display_date"


def test_release_timestamp_wins_over_display_date() -> None:
    (release,) = import_items(
        item(
            display_date="26 November 2026 9:30am",
            release_timestamp="2026-11-26T07:00:00.000+00:00",
        )
    )
    assert release.release_date is not None
    assert release.release_date.isoformat() == "2026-11-26T07:00:00+00:00"


def test_confirmed_month_keeps_provisional_text_and_timestamp() -> None:
    month_confirmed, moved = load("search-results.json")
    assert month_confirmed.status is Status.CONFIRMED
    assert month_confirmed.provisional_date == "February 2027"
    assert month_confirmed.release_date is not None
    assert month_confirmed.release_date.isoformat() == "2027-02-25T09:30:00+00:00"
    assert month_confirmed.topics == ()
    # A previous date known only as a month: its first day, and the words kept.
    assert moved.status is Status.POSTPONED
    (change,) = moved.date_changes
    assert change.previous_date == date(2026, 10, 1)
    assert not isinstance(change.previous_date, datetime)
    assert change.reason == (
        "Previously: October 2026. Moved to include the final survey returns."
    )


def test_confirmed_month_without_timestamp_has_no_release_date() -> None:
    (release,) = import_items(item(display_date="December 2026"))
    assert release.status is Status.CONFIRMED
    assert release.release_date is None
    assert release.provisional_date == "December 2026"


def test_provisional_with_an_exact_display_date_keeps_it_as_text() -> None:
    (release,) = import_items(item(state="provisional"))
    assert release.status is Status.PROVISIONAL
    assert release.release_date is None
    assert release.provisional_date == "26 November 2026 9:30am"


def test_previous_month_without_a_note() -> None:
    (release,) = import_items(
        item(previous_display_date="September to October 2026", latest_change_note=None)
    )
    assert release.date_changes[0].previous_date == date(2026, 9, 1)
    assert release.date_changes[0].reason == "Previously: September to October 2026."


def test_designation_falls_back_to_document_type() -> None:
    data = item(format_sub_type=None)
    (release,) = import_items(data)
    assert release.designation is Designation.ACCREDITED
    assert fields(release)["designation"] == "document_type"
    data["document_type"] = "official_statistics_announcement"
    (release,) = import_items(data)
    assert release.designation is Designation.OFFICIAL


def test_locale_and_default_language() -> None:
    data = item()
    data["locale"] = "cy"
    assert import_items(data)[0].language == "cy"
    del data["locale"]
    assert import_items(data, Settings(language="gd"))[0].language == "gd"


def test_display_times_are_uk_time_written_in_the_site_zone() -> None:
    (release,) = import_items(
        item(display_date="2 July 2026 9:30am"), Settings(timezone="UTC")
    )
    assert release.release_date is not None
    assert release.release_date.isoformat() == "2026-07-02T08:30:00+00:00"


# --- slug changes --------------------------------------------------------------------


def test_same_content_id_keeps_the_latest_and_records_former_slugs() -> None:
    releases = load("same-content-id.json")
    assert [r.slug for r in releases] == [
        "national-travel-survey-2025--1",
        "transport-and-environment-statistics-2026",
    ]
    kept, other = releases
    assert kept.status is Status.CONFIRMED
    assert kept.former_slugs == ("national-travel-survey-2025",)
    assert fields(kept)["former_slugs"] == "base_path"
    assert kept.source is not None and kept.source.index == 1
    assert other.former_slugs == ()


def test_same_content_id_order_does_not_matter() -> None:
    newer, other, older = fixture_data("same-content-id.json")
    releases = import_items([older, other, newer])
    assert [r.slug for r in releases] == [
        "transport-and-environment-statistics-2026",
        "national-travel-survey-2025--1",
    ]
    assert releases[1].former_slugs == ("national-travel-survey-2025",)


def test_same_content_id_ties_go_to_updated_at_then_the_later_item() -> None:
    newer, _, older = fixture_data("same-content-id.json")
    a = {**older, "public_updated_at": "2026-06-10T14:05:00+01:00"}
    b = {**newer, "updated_at": "2026-06-01T00:00:00Z"}
    a["updated_at"] = "2026-06-11T00:00:00Z"
    (kept,) = import_items([b, a])
    assert kept.slug == "national-travel-survey-2025"
    assert kept.former_slugs == ("national-travel-survey-2025--1",)
    c = {**older, "base_path": older["base_path"] + "--2"}
    (kept,) = import_items([older, c])
    assert kept.slug == "national-travel-survey-2025--2"


# --- display dates -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20 January 2016 9:30am", "2016-01-20T09:30:00+00:00"),
        ("11 January 2018 7am", "2018-01-11T07:00:00+00:00"),
        ("3 July 2026 12:30pm", "2026-07-03T12:30:00+01:00"),
        ("3 July 2026 12pm", "2026-07-03T12:00:00+01:00"),
        ("3 July 2026 12:15am", "2026-07-03T00:15:00+01:00"),
        ("3 July 2026 4:00 PM", "2026-07-03T16:00:00+01:00"),
        ("3 Jul 2026 9.30am", "2026-07-03T09:30:00+01:00"),
        ("Friday 3 July 2026 9:30am", "2026-07-03T09:30:00+01:00"),
        ("3 July 2026 09:30", "2026-07-03T09:30:00+01:00"),
        ("3 July 2026 at 7am", "2026-07-03T07:00:00+01:00"),
        (" 3  July 2026   9:30am ", "2026-07-03T09:30:00+01:00"),
        ("3 July 2026 noon", "2026-07-03T12:00:00+01:00"),
    ],
)
def test_exact_display_dates(text: str, expected: str) -> None:
    parsed = govuk.parse_display_date(
        text, LONDON, Where("f", 1), "details.display_date"
    )
    assert parsed.kind == "exact"
    assert isinstance(parsed.value, datetime)
    assert parsed.value.isoformat() == expected


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("January 2016", "month", date(2016, 1, 1)),
        ("Sept 2026", "month", date(2026, 9, 1)),
        ("january 2027", "month", date(2027, 1, 1)),
        ("January to February 2016", "range", date(2016, 1, 1)),
        ("December to January 2027", "range", date(2026, 12, 1)),
        ("November 2026 to January 2027", "range", date(2026, 11, 1)),
        ("May - June 2027", "range", date(2027, 5, 1)),
        ("20 January 2016", "day", date(2016, 1, 20)),
    ],
)
def test_provisional_display_dates(text: str, kind: str, expected: date) -> None:
    parsed = govuk.parse_display_date(
        text, LONDON, Where("f", 1), "details.display_date"
    )
    assert parsed.kind == kind
    assert parsed.value == expected
    assert parsed.text == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sometime soon", "is not a GOV.UK display date"),
        ("30 February 2026 9:30am", "not a real calendar date"),
        ("3 July 2026 13:30pm", "impossible time"),
        ("3 July 2026 0am", "impossible time"),
        ("3 July 2026 24:00", "impossible time"),
        ("Smarch 2026", "is not a GOV.UK display date"),
        ("2026-07-03T09:30:00Z", "is not a GOV.UK display date"),
        ("Spring 2027", "is not a GOV.UK display date"),
    ],
)
def test_bad_display_dates(text: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        govuk.parse_display_date(text, LONDON, Where("f", 1), "details.display_date")
    assert message in str(caught.value)
    assert caught.value.field == "details.display_date"


# --- errors --------------------------------------------------------------------------


def test_bad_display_date_names_file_record_and_field() -> None:
    path = str(FIXTURES / "bad-display-date.json")
    with pytest.raises(InputError) as caught:
        read_file(path, SETTINGS)
    err = caught.value
    assert err.file == path
    assert err.record == 1
    assert err.field == "details.display_date"
    text = str(err)
    assert path in text
    assert (
        "record 1 (/government/statistics/announcements/"
        "public-transport-use-by-region-2026)"
    ) in text
    assert "'details.display_date'" in text
    assert "sometime soon" in text


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (item(state="scheduled"), "details.state"),
        (item(state=None), "details.state"),
        (item(display_date=None), "details.display_date"),
        (item(display_date=20260101), "details.display_date"),
        (item(release_timestamp="tomorrow"), "details.release_timestamp"),
        (item(previous_display_date="before"), "details.previous_display_date"),
        (
            item(latest_change_note=["x"], previous_display_date="May 2026"),
            "details.latest_change_note",
        ),
        (item(format_sub_type="experimental"), "details.format_sub_type"),
        (item(cancellation_reason={"text": "x"}), "details.cancellation_reason"),
        ({**item(), "details": "confirmed"}, "details"),
        ({k: v for k, v in item().items() if k != "details"}, "details"),
        ({k: v for k, v in item().items() if k != "base_path"}, "base_path"),
        ({**item(), "base_path": "/"}, "base_path"),
        ({**item(), "title": ["x"]}, "title"),
        ({**item(), "links": []}, "links"),
        ({**item(), "links": {"organisations": "DfT"}}, "links.organisations"),
        ({**item(), "links": {"organisations": ["DfT"]}}, "links.organisations[0]"),
        ({**item(), "links": {"policy_areas": [1]}}, "links.policy_areas[0]"),
        ({**item(), "public_updated_at": "yesterday"}, "public_updated_at"),
        ([item(), {"schema_name": "news_article", "base_path": "/x"}], "schema_name"),
        ([item(), "text"], None),
        ({"results": "none"}, "results"),
    ],
)
def test_bad_items_raise_input_error(data: Any, field: str | None) -> None:
    with pytest.raises(InputError) as caught:
        import_items(data)
    assert caught.value.file == "items.json"
    assert caught.value.field == field
    if field is not None:
        assert f"'{field}'" in str(caught.value)


def test_bad_second_item_names_its_index() -> None:
    second = item(state="unknown")
    second["base_path"] = "/government/statistics/announcements/second"
    with pytest.raises(InputError) as caught:
        import_items([item(), second])
    assert caught.value.record == 2
    assert caught.value.record_id == "/government/statistics/announcements/second"


def test_unrecognised_document_is_an_input_error() -> None:
    with pytest.raises(InputError):
        import_items("text")


# --- extra: the real records in ../shared/reference ----------------------------------


@pytest.mark.reference
def test_real_govuk_records_import() -> None:
    """Extra check: every real GOV.UK announcement in ../shared/reference imports."""
    folder = REFERENCE / "govuk"
    if not folder.is_dir():
        pytest.skip(f"reference material not present at {folder}")
    paths = sorted(folder.glob("*.json"))
    assert paths, f"no JSON records in {folder}"
    statuses: dict[str, Status | None] = {}
    for path in paths:
        data, _ = parse_document(path.read_text(encoding="utf-8"), str(path))
        assert detect_format(data, str(path)) == "govuk", path.name
        releases = read_file(str(path), SETTINGS)
        assert releases, path.name
        for release in releases:
            assert release.slug and release.title and release.status, path.name
            assert release.identifier, path.name
            assert release.same_as[0].startswith("https://www.gov.uk/"), path.name
            assert release.publisher is not None, path.name
        statuses[path.name] = releases[0].status
    expected = {
        "cancelled_official_statistics": Status.CANCELLED,
        "national_statistics": Status.PROVISIONAL,
        "release_date_changed": Status.POSTPONED,
        "official_statistics": Status.CONFIRMED,
    }
    for name, status in statuses.items():
        for key, want in expected.items():
            if name.endswith(f"__{key}.json"):
                assert status is want, name
