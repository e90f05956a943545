"""ONS importers: the release-calendar API (snake_case) and legacy zebedee JSON."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

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
from publisher.model import Dataset, Designation, Document, Release, Status, Topic

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
SETTINGS = Settings()


def load(name: str, settings: Settings = SETTINGS) -> list[Release]:
    return read_file(str(FIXTURES / name), settings)


def by_slug(releases: list[Release]) -> dict[str, Release]:
    return {r.slug: r for r in releases}


def fields(release: Release) -> dict[str, str]:
    assert release.source is not None
    return dict(release.source.fields)


def api_doc(*releases: Any) -> dict[str, Any]:
    return {
        "took": 1,
        "breakdown": {"total": len(releases)},
        "releases": list(releases),
    }


def api_release(**description: Any) -> dict[str, Any]:
    desc: dict[str, Any] = {
        "title": "Retail sales, Great Britain: May 2026",
        "summary": "How much shoppers spent in Great Britain, by type of store.",
        "release_date": "2026-06-19T06:00:00.000Z",
        "published": False,
        "cancelled": False,
        "finalised": True,
    }
    desc.update(description)
    return {"uri": "/releases/retailsalesgreatbritainmay2026", "description": desc}


def import_api(data: Any, settings: Settings = SETTINGS) -> list[Release]:
    return ons_api.releases_from_document(data, file="input.json", settings=settings)


def import_legacy(data: Any) -> list[Release]:
    return ons_legacy.releases_from_document(data, file="data.json", settings=SETTINGS)


# --- auto-detection ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ons-api/search-releases.json", "ons-api"),
        ("ons-api/captured-cancelled.json", "ons-api"),
        ("ons-api/legacy-endpoint-release.json", "ons-api"),
        ("ons-api/bad-impossible-date.json", "ons-api"),
        ("ons-legacy/release-data.json", "ons-legacy"),
        ("ons-legacy/releasecalendar-list.json", "ons-legacy"),
        ("ons-legacy/release-no-type.json", "ons-legacy"),
        ("ons-legacy/bad-date-change.json", "ons-legacy"),
    ],
)
def test_auto_detection_picks_the_format(name: str, expected: str) -> None:
    path = str(FIXTURES / name)
    data, _ = parse_document((FIXTURES / name).read_text(encoding="utf-8"), path)
    assert detect_format(data, path) == expected


def test_the_two_spellings_are_not_confused() -> None:
    snake = api_release()
    camel = {
        "uri": "/releases/x",
        "description": {"title": "X", "releaseDate": "2026-06-19T06:00:00.000Z"},
    }
    assert ons_api.looks_like(snake) and not ons_legacy.looks_like(snake)
    assert ons_legacy.looks_like(camel) and not ons_api.looks_like(camel)
    assert ons_api.looks_like([snake]) and ons_legacy.looks_like([camel])
    assert not ons_api.looks_like([snake, camel])
    assert not ons_legacy.looks_like([snake, camel])
    # An API response with no results is still an API response.
    assert ons_api.looks_like({"took": 2, "breakdown": {"total": 0}, "releases": []})
    assert import_api({"took": 2, "breakdown": {"total": 0}, "releases": []}) == []


@pytest.mark.parametrize(
    "data",
    [
        {"id": "retail-sales-may-2026", "title": "Retail sales", "status": "confirmed"},
        {
            "releases": [
                {"id": "retail-sales", "title": "Retail", "status": "confirmed"}
            ]
        },
        [{"id": "retail-sales", "title": "Retail", "status": "confirmed"}],
        {"schema_name": "statistics_announcement", "description": "text"},
        [],
        {},
        "text",
        None,
    ],
)
def test_other_shapes_are_not_ons(data: Any) -> None:
    assert not ons_api.looks_like(data)
    assert not ons_legacy.looks_like(data)


# --- ONS release-calendar API --------------------------------------------------------


def test_api_statuses_follow_the_ons_rules() -> None:
    releases = load("ons-api/search-releases.json")
    assert [r.status for r in releases] == [
        Status.PROVISIONAL,
        Status.CONFIRMED,
        Status.POSTPONED,
        Status.PUBLISHED,
        Status.CANCELLED,
        Status.CONFIRMED,
    ]


def test_api_slugs_and_same_as() -> None:
    releases = load("ons-api/search-releases.json")
    assert [r.slug for r in releases] == [
        "householdenergyspendinguk2026",
        "regionalgrossdisposablehouseholdincomeuk1997to2024",
        "internationalstudentmigrationupdatejune2026",
        "census2021householdcompositionbylocalauthorityenglandandwales",
        "businessinsightsandconditionssurveywave160",
        "labourmarketoverviewukjune2026",
    ]
    census = releases[3]
    assert census.same_as == (
        "https://www.ons.gov.uk/releases/"
        "census2021householdcompositionbylocalauthorityenglandandwales/",
    )
    assert releases[0].same_as == (
        "https://www.ons.gov.uk/releases/householdenergyspendinguk2026",
    )


def test_api_release_dates_are_utc_instants_written_in_london_time() -> None:
    releases = by_slug(load("ons-api/search-releases.json"))
    june = releases["regionalgrossdisposablehouseholdincomeuk1997to2024"].release_date
    assert june is not None
    assert june.isoformat() == "2026-06-18T09:30:00+01:00"
    january = releases[
        "census2021householdcompositionbylocalauthorityenglandandwales"
    ].release_date
    assert january is not None
    assert january.isoformat() == "2026-01-20T09:30:00+00:00"
    seven = releases["labourmarketoverviewukjune2026"].release_date
    assert seven is not None and seven.isoformat() == "2026-06-16T07:00:00+01:00"


def test_api_release_dates_follow_the_site_zone() -> None:
    releases = import_api(api_doc(api_release()), Settings(timezone="UTC"))
    assert releases[0].release_date is not None
    assert releases[0].release_date.isoformat() == "2026-06-19T06:00:00+00:00"


def test_api_provisional_release() -> None:
    release = load("ons-api/search-releases.json")[0]
    assert release.provisional_date == "March 2027"
    assert release.release_date is not None  # kept: the API's own sort date
    assert release.release_date.isoformat() == "2027-03-11T07:00:00+00:00"
    assert release.keywords == ("energy", "household spending", "fuel poverty")
    assert release.designation is Designation.OFFICIAL
    assert release.topics == ()  # canonical_topic is an ID without a label
    assert [(c.name, c.email, c.telephone) for c in release.contacts] == [
        ("Household Finances team", "household.finances@example.org", "+44 1633 455000")
    ]
    assert release.language == "en"
    assert release.published_date is None


def test_api_confirmed_release() -> None:
    release = load("ons-api/search-releases.json")[1]
    assert release.provisional_date is None  # "" means absent
    assert release.designation is Designation.ACCREDITED
    assert release.next_release == "To be announced"
    assert release.contacts[0].name == "Regional Accounts team"
    assert release.contacts[0].telephone == "+44 1633 455001"
    assert release.date_changes == ()


def test_api_postponed_release_keeps_every_date_change() -> None:
    release = load("ons-api/search-releases.json")[2]
    assert release.status is Status.POSTPONED
    assert release.designation is None  # national_statistic absent
    assert len(release.date_changes) == 2
    first, second = release.date_changes
    assert first.previous_date == date(2026, 6, 4)
    assert not isinstance(first.previous_date, datetime)
    assert first.reason is not None and first.reason.startswith("Moved to allow")
    assert isinstance(second.previous_date, datetime)
    assert second.previous_date.isoformat() == "2026-06-25T09:30:00+01:00"
    assert second.reason is not None and "one week" in second.reason
    assert second.changed_at is None
    assert release.keywords == ()


def test_api_published_census_release() -> None:
    release = load("ons-api/search-releases.json")[3]
    assert release.status is Status.PUBLISHED
    assert release.census is True
    assert release.published_date is None  # rdf uses the release date
    assert fields(release)["census"] == "description.census"


def test_api_cancelled_release_and_language() -> None:
    releases = load("ons-api/search-releases.json")
    cancelled = releases[4]
    assert cancelled.status is Status.CANCELLED
    assert cancelled.cancellation_notice is None  # the search API has none
    assert cancelled.provisional_date == "February 2026"
    welsh = releases[5]
    assert welsh.language == "cy"
    assert welsh.keywords == ("employment", "unemployment")
    assert welsh.date_changes == ()  # date_changes: null


def test_api_language_defaults_to_the_setting() -> None:
    releases = load("ons-api/captured-cancelled.json", Settings(language="cy"))
    assert {r.language for r in releases} == {"cy"}


def test_api_source_ref_names_the_source_fields() -> None:
    releases = load("ons-api/search-releases.json")
    postponed = releases[2]
    assert postponed.source is not None
    assert postponed.source.file == str(FIXTURES / "ons-api/search-releases.json")
    assert postponed.source.index == 3
    assert (
        postponed.source.record_id
        == "/releases/internationalstudentmigrationupdatejune2026"
    )
    assert fields(postponed) == {
        "slug": "uri",
        "same_as": "uri",
        "title": "description.title",
        "summary": "description.summary",
        "release_date": "description.release_date",
        "date_changes": "date_changes",
        "status": "date_changes",
        "language": "description.language",
        # named even when empty, so reports use ONS's names
        "published_date": "description.release_date",
        "provisional_date": "description.provisional_date",
        "cancellation_notice": "description.cancellation_notice",
        "designation": "description.national_statistic",
        "next_release": "description.next_release",
        "contacts": "description.contact",
    }
    assert (
        postponed.source.field_name("date_changes[1].previous_date")
        == "date_changes[1].previous_date"
    )
    first = fields(releases[0])
    assert first["provisional_date"] == "description.provisional_date"
    assert first["designation"] == "description.national_statistic"
    assert first["contacts"] == "description.contact"
    assert first["keywords"] == "description.keywords"
    assert first["status"] == "description.finalised"
    assert fields(releases[1])["next_release"] == "description.next_release"
    assert fields(releases[3])["status"] == "description.published"
    assert fields(releases[4])["status"] == "description.cancelled"


def test_capture_wrapper() -> None:
    releases = load("ons-api/captured-cancelled.json")
    assert [r.slug for r in releases] == [
        "householdsatelliteaccountuk2024",
        "quarterlypersonalwellbeingukapriltojune2026",
    ]
    assert [r.status for r in releases] == [Status.CANCELLED, Status.CANCELLED]
    assert releases[0].provisional_date == "April 2026"
    assert releases[1].date_changes[0].reason == (
        "Postponed to include revised population weights."
    )
    assert releases[1].source is not None
    assert releases[1].source.index == 2
    assert releases[1].source.record_id == (
        "/releases/quarterlypersonalwellbeingukapriltojune2026"
    )


def test_capture_wrapper_record_named_by_id_only() -> None:
    record = api_release()
    record["id"] = record.pop("uri")
    releases = import_api({"records": [record]})
    assert releases[0].slug == "retailsalesgreatbritainmay2026"
    assert fields(releases[0])["slug"] == "id"


def test_legacy_endpoint_release_in_snake_case() -> None:
    (release,) = load("ons-api/legacy-endpoint-release.json")
    assert release.slug == "census2021welshlanguageskillsbyoccupation"
    assert release.status is Status.CANCELLED
    assert release.cancellation_notice == (
        "This release has been cancelled because the occupation coding of Welsh "
        "speakers did not meet our quality standards.\n\n"
        "The tables will be included in the Census 2021 origin-destination release "
        "later this year."
    )
    assert release.census is True
    assert release.designation is Designation.ACCREDITED
    assert release.next_release is None
    assert release.provisional_date is None
    assert release.datasets == (
        Dataset(
            title="Welsh language skills by local authority",
            url="https://www.ons.gov.uk/peoplepopulationandcommunity/culturalidentity/"
            "language/datasets/welshlanguageskillsbylocalauthority",
        ),
        Dataset(
            title="/peoplepopulationandcommunity/culturalidentity/language/datasets/"
            "welshlanguageskillsbyage",
            url="https://www.ons.gov.uk/peoplepopulationandcommunity/culturalidentity/"
            "language/datasets/welshlanguageskillsbyage",
        ),
    )
    assert [d.url for d in release.related_documents] == [
        "https://www.ons.gov.uk/peoplepopulationandcommunity/culturalidentity/"
        "language/bulletins/census2021walesl/2026-03-12",
        "https://www.ons.gov.uk/peoplepopulationandcommunity/populationandmigration/"
        "methodologies/census2021qmi",
        "https://www.gov.wales/welsh-language-statistics",
    ]
    assert release.related_documents[2].title == "Welsh Government language statistics"
    got = fields(release)
    assert got["census"] == "description.survey"
    assert got["cancellation_notice"] == "description.cancellation_notice"
    assert got["datasets"] == "related_datasets"
    assert got["related_documents"] == "related_documents/related_methodology/links"
    assert got["status"] == "description.cancelled"


def test_bad_date_names_file_record_and_field() -> None:
    path = str(FIXTURES / "ons-api/bad-impossible-date.json")
    with pytest.raises(InputError) as caught:
        read_file(path, SETTINGS)
    err = caught.value
    assert err.file == path
    assert err.record == 2
    assert err.record_id == "/releases/tradeinservicesbypartnercountryfebruary2026"
    assert err.field == "description.release_date"
    text = str(err)
    assert path in text
    assert "record 2 (/releases/tradeinservicesbypartnercountryfebruary2026)" in text
    assert "'description.release_date'" in text
    assert "2026-02-30T09:30:00.000Z" in text


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (api_doc(api_release(release_date="next week")), "description.release_date"),
        (api_doc(api_release(release_date="2026-06-19")), "description.release_date"),
        (api_doc(api_release(release_date=20260619)), "description.release_date"),
        (api_doc(api_release(published="maybe")), "description.published"),
        (api_doc(api_release(cancelled=[True])), "description.cancelled"),
        (api_doc(api_release(keywords="gdp")), "description.keywords"),
        (api_doc(api_release(keywords=["gdp", 3])), "description.keywords[1]"),
        (api_doc(api_release(contact="someone")), "description.contact"),
        (api_doc(api_release(contact={"name": ["x"]})), "description.contact.name"),
        (api_doc(api_release(title={"en": "x"})), "description.title"),
        (
            api_doc(api_release(national_statistic="sometimes")),
            "description.national_statistic",
        ),
        (
            api_doc(api_release(cancellation_notice=["ok", 5])),
            "description.cancellation_notice[1]",
        ),
        (
            api_doc(api_release(cancellation_notice=5)),
            "description.cancellation_notice",
        ),
        (api_doc({"uri": "/releases/x", "description": "text"}), "description"),
        (api_doc({"uri": "/releases/x"}), "description"),
        (api_doc({"description": {"title": "x"}}), "uri"),
        (api_doc({"uri": "/", "description": {"title": "x"}}), "uri"),
        (api_doc(["not a release"]), None),
        (
            api_doc({**api_release(), "date_changes": {"previous_date": "x"}}),
            "date_changes",
        ),
        (api_doc({**api_release(), "date_changes": ["x"]}), "date_changes[0]"),
        (
            api_doc({**api_release(), "date_changes": [{"change_notice": "moved"}]}),
            "date_changes[0].previous_date",
        ),
        (
            api_doc(
                {**api_release(), "date_changes": [{"previous_date": "2026-02-30"}]}
            ),
            "date_changes[0].previous_date",
        ),
        (
            api_doc({**api_release(), "date_changes": [{"previous_date": True}]}),
            "date_changes[0].previous_date",
        ),
        (
            api_doc({**api_release(), "related_datasets": [{"title": "no uri"}]}),
            "related_datasets[0].uri",
        ),
        (api_doc({**api_release(), "links": "x"}), "links"),
        ({"took": 1, "releases": {"uri": "x"}}, "releases"),
    ],
)
def test_bad_api_input_raises_input_error(data: Any, field: str | None) -> None:
    with pytest.raises(InputError) as caught:
        import_api(data)
    assert caught.value.file == "input.json"
    assert caught.value.field == field
    if field is not None:
        assert f"'{field}'" in str(caught.value)


def test_bad_api_record_names_its_index_and_uri() -> None:
    data = api_doc(api_release(), {**api_release(finalised="x"), "uri": "/releases/b"})
    with pytest.raises(InputError) as caught:
        import_api(data)
    assert caught.value.record == 2
    assert caught.value.record_id == "/releases/b"
    assert "input.json, record 2 (/releases/b), field 'description.finalised'" in str(
        caught.value
    )


def test_unrecognised_document_is_an_input_error() -> None:
    with pytest.raises(InputError):
        import_api("text")
    with pytest.raises(InputError):
        import_legacy({"type": "page"})


# --- ONS legacy (zebedee / babbage) --------------------------------------------------


def test_legacy_data_json_with_every_field() -> None:
    (release,) = load("ons-legacy/release-data.json")
    assert release.slug == "gdpfirstquarterlyestimateukjanuarytomarch2026"
    assert release.status is Status.PUBLISHED
    assert release.title == "GDP first quarterly estimate, UK: January to March 2026"
    assert release.summary is not None and release.summary.startswith("First quarterly")
    assert release.release_date is not None
    assert release.release_date.isoformat() == "2026-05-14T07:00:00+01:00"
    assert release.next_release == "12 June 2026"
    assert release.provisional_date == "May 2026"
    assert release.designation is Designation.ACCREDITED
    assert release.census is False
    assert release.keywords == ("GDP", "economic growth", "output")
    assert release.language == "en"
    assert [(c.name, c.email, c.telephone) for c in release.contacts] == [
        ("GDP enquiries", "gdp@example.org", "+44 1633 455284")
    ]
    (change,) = release.date_changes
    assert isinstance(change.previous_date, datetime)
    assert change.previous_date.isoformat() == "2026-05-13T07:00:00+01:00"
    assert change.reason is not None and change.reason.startswith("Moved by one day")
    assert release.cancellation_notice is None
    assert release.same_as == (
        "https://www.ons.gov.uk/releases/gdpfirstquarterlyestimateukjanuarytomarch2026",
    )
    assert release.topics == (
        Topic(slug="grossdomesticproductgdp", label="Gross Domestic Product (GDP)"),
    )
    assert [d.title for d in release.datasets] == [
        "GDP first quarterly estimate time series",
        "/economy/grossdomesticproductgdp/datasets/gdpoutputapproachlowlevelaggregates",
        "GDP to four decimal places",
    ]
    assert release.datasets[2].url == (
        "https://www.ons.gov.uk/datasets/gdp-to-four-decimal-places/editions/"
        "time-series/versions/48"
    )
    # The bulletin is listed under relatedDocuments and again under links: once.
    assert release.related_documents == (
        Document(
            url="https://www.ons.gov.uk/economy/grossdomesticproductgdp/bulletins/"
            "gdpfirstquarterlyestimateuk/januarytomarch2026",
            title="GDP first quarterly estimate, UK: January to March 2026",
        ),
        Document(
            url="https://www.ons.gov.uk/economy/grossdomesticproductgdp/methodologies/"
            "grossdomesticproductgdpqmi",
            title="Gross domestic product (GDP) QMI",
        ),
        Document(
            url="https://www.bankofengland.co.uk/monetary-policy-report",
            title="Monetary Policy Report",
        ),
    )
    got = fields(release)
    assert got["release_date"] == "description.releaseDate"
    assert got["next_release"] == "description.nextRelease"
    assert got["provisional_date"] == "description.provisionalDate"
    assert got["designation"] == "description.nationalStatistic"
    assert got["date_changes"] == "dateChanges"
    assert got["datasets"] == "relatedDatasets/relatedAPIDatasets"
    assert got["related_documents"] == "relatedDocuments/relatedMethodology/links"
    assert got["topics"] == "topics"
    assert got["summary"] == "description.summary"
    assert got["status"] == "description.published"


def test_legacy_release_calendar_list() -> None:
    releases = load("ons-legacy/releasecalendar-list.json")
    assert [r.status for r in releases] == [
        Status.CONFIRMED,
        Status.PROVISIONAL,
        Status.POSTPONED,
        Status.CANCELLED,
        Status.PUBLISHED,
    ]
    confirmed, provisional, postponed, cancelled, published = releases
    assert confirmed.slug == "producerpriceinflationukapril2026"
    assert confirmed.release_date is not None
    assert confirmed.release_date.isoformat() == "2026-05-20T07:00:00+01:00"
    assert confirmed.next_release == "17 June 2026"
    assert provisional.provisional_date == "October 2026"
    assert provisional.next_release is None  # "" means absent
    assert provisional.contacts == ()  # every contact field empty
    assert postponed.designation is Designation.OFFICIAL
    assert postponed.date_changes[0].previous_date == datetime.fromisoformat(
        "2026-09-24T08:30:00+00:00"
    )
    assert [(c.name, c.email) for c in postponed.contacts] == [
        ("Business registers", None)
    ]
    assert cancelled.cancellation_notice == (
        "This release has been cancelled while we review the sources for inbound "
        "tourism spending.\n\nWe will announce a new date when the review is complete."
    )
    assert fields(cancelled)["cancellation_notice"] == "description.cancellationNotice"
    assert published.census is True
    assert fields(published)["census"] == "description.survey"
    assert cancelled.source is not None
    assert cancelled.source.index == 4
    assert cancelled.source.record_id == "/releases/tourismsatelliteaccountuk2024"


def test_legacy_stub_without_type_and_leading_slash() -> None:
    (release,) = load("ons-legacy/release-no-type.json")
    assert release.slug == "fostering"
    assert release.same_as == ("https://www.ons.gov.uk/releases/fostering",)
    assert release.status is Status.CONFIRMED
    assert release.designation is Designation.OFFICIAL
    assert release.source is not None
    assert release.source.record_id == "releases/fostering"
    assert [(c.name, c.email) for c in release.contacts] == [
        ("Children's statistics", None)
    ]


def test_legacy_plain_list_and_meta_description_fallback() -> None:
    record = {
        "uri": "/releases/a",
        "description": {
            "title": "A",
            "summary": "",
            "metaDescription": "Short description of release A.",
            "releaseDate": "2026-01-08T09:30:00.000Z",
            "finalised": False,
        },
    }
    assert ons_legacy.looks_like([record, {**record, "uri": "/releases/b"}])
    releases = import_legacy([record, {**record, "uri": "/releases/b"}])
    assert [r.slug for r in releases] == ["a", "b"]
    assert releases[0].summary == "Short description of release A."
    assert fields(releases[0])["summary"] == "description.metaDescription"
    assert releases[0].status is Status.PROVISIONAL


def test_legacy_list_wrapper_with_no_results() -> None:
    data = {"type": "list", "listType": "releasecalendar", "result": {"results": []}}
    assert ons_legacy.looks_like(data)
    assert import_legacy(data) == []


def test_legacy_bad_date_change_names_the_camel_case_field() -> None:
    path = str(FIXTURES / "ons-legacy/bad-date-change.json")
    with pytest.raises(InputError) as caught:
        read_file(path, SETTINGS)
    err = caught.value
    assert err.field == "dateChanges[0].previousDate"
    assert err.record == 1
    assert "record 1 (/releases/housepriceindexukmarch2026)" in str(err)
    assert "'dateChanges[0].previousDate'" in str(err)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (
            {
                "type": "release",
                "uri": "/releases/x",
                "description": {"releaseDate": "x"},
            },
            "description.releaseDate",
        ),
        (
            {
                "type": "release",
                "uri": "/releases/x",
                "description": {"nextRelease": []},
            },
            "description.nextRelease",
        ),
        (
            {
                "type": "list",
                "listType": "releasecalendar",
                "result": {
                    "results": [{"type": "bulletin", "uri": "/b", "description": {}}]
                },
            },
            "type",
        ),
        ({"type": "list", "listType": "releasecalendar", "result": []}, "result"),
        (
            {"type": "list", "listType": "releasecalendar", "result": {"results": {}}},
            "result.results",
        ),
        (
            {
                "type": "release",
                "uri": "/releases/x",
                "description": {"title": "x"},
                "relatedDocuments": [5],
            },
            "relatedDocuments[0]",
        ),
        (
            {
                "type": "release",
                "uri": "/releases/x",
                "description": {"cancellationNotice": {"text": "x"}},
            },
            "description.cancellationNotice",
        ),
    ],
)
def test_bad_legacy_input_raises_input_error(data: Any, field: str) -> None:
    with pytest.raises(InputError) as caught:
        import_legacy(data)
    assert caught.value.field == field
    assert caught.value.file == "data.json"


# --- extra: the real records in ../shared/reference ----------------------------------

REFERENCE_FORMATS = {
    "dp-api-clients-go__zebedee_client_test_release_stub.json": "ons-legacy",
    "dp-search-api__expected_multiple_search_release_results.json": "ons-api",
    "dp-search-api__search_release_expected_plain.json": "ons-api",
    "florence__viewReleaseSelector_stubbedData.json": "ons-legacy",
    "gis-ai-go__ons-releases-cancelled.json": "ons-api",
    "zebedee__content_releases_adoption_data.json": "ons-legacy",
}


@pytest.mark.reference
def test_real_ons_records_import() -> None:
    """Extra check: every real ONS record in ../shared/reference/ons imports."""
    folder = REFERENCE / "ons"
    if not folder.is_dir():
        pytest.skip(f"reference material not present at {folder}")
    paths = sorted(folder.glob("*.json"))
    assert paths, f"no JSON records in {folder}"
    for path in paths:
        data, _ = parse_document(path.read_text(encoding="utf-8"), str(path))
        expected = REFERENCE_FORMATS.get(path.name)
        detected = detect_format(data, str(path))
        if expected is not None:
            assert detected == expected, path.name
        assert detected in {"ons-api", "ons-legacy"}, path.name
        assert not govuk.looks_like(data), path.name
        releases = read_file(str(path), SETTINGS)
        assert releases, path.name
        for release in releases:
            assert release.slug and release.title and release.status, path.name
            assert release.same_as[0].startswith("https://www.ons.gov.uk/"), path.name
    by_name = {p.name: read_file(str(p), SETTINGS) for p in paths}
    adoption = by_name.get("zebedee__content_releases_adoption_data.json")
    if adoption is not None:
        assert adoption[0].slug == "adoption"
        assert adoption[0].status is Status.CANCELLED
    cancelled = by_name.get("gis-ai-go__ons-releases-cancelled.json")
    if cancelled is not None:
        assert {r.status for r in cancelled} == {Status.CANCELLED}


def test_fixture_files_are_valid_json() -> None:
    for path in sorted((FIXTURES / "ons-api").glob("*.json")) + sorted(
        (FIXTURES / "ons-legacy").glob("*.json")
    ):
        json.loads(path.read_text(encoding="utf-8"))
