"""The native input format: JSON, JSON Lines, YAML, CSV, and clear input errors."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from publisher.config import Settings
from publisher.errors import InputError
from publisher.importers import read_file
from publisher.model import Designation, Status

from .conftest import FIXTURES

NATIVE = FIXTURES / "native"


def _offset(dt: datetime | None) -> timedelta | None:
    assert dt is not None
    return dt.utcoffset()


def test_json_calendar(settings: Settings) -> None:
    releases = read_file(str(NATIVE / "calendar.json"), settings)
    assert [r.slug for r in releases] == [
        "index-of-production-uk-march-2027",
        "house-price-index-uk-january-2027",
    ]
    iop, hpi = releases
    assert iop.status is Status.CONFIRMED
    assert iop.designation is Designation.ACCREDITED
    assert [t.slug for t in iop.topics] == ["economy", "business-industry"]
    assert iop.contacts[0].email == "production@example.org"
    # 07:00 in May is BST: the offset is kept as given
    assert iop.release_date is not None
    assert iop.release_date.hour == 7
    assert _offset(iop.release_date) == timedelta(hours=1)
    # 09:30Z in March (before the clocks change) is 09:30 GMT
    assert hpi.release_date is not None
    assert (hpi.release_date.hour, hpi.release_date.minute) == (9, 30)
    assert _offset(hpi.release_date) == timedelta(0)
    download = hpi.datasets[0].downloads[1]
    assert download.size == 987654
    assert download.format is not None
    assert download.format.endswith("spreadsheetml.sheet")
    assert hpi.related_documents[0].title == "House price index bulletin"
    assert hpi.source is not None
    assert hpi.source.index == 2
    assert hpi.source.field_name("datasets[0].downloads[1].url") == (
        "datasets[0].downloads[1].url"
    )


def test_json_lines(settings: Settings) -> None:
    releases = read_file(str(NATIVE / "calendar.jsonl"), settings)
    assert [r.status for r in releases] == [Status.PROVISIONAL, Status.CANCELLED]
    assert releases[0].provisional_date == "May 2027"
    assert releases[0].release_date is None
    assert releases[1].cancellation_notice is not None


def test_yaml_documents_and_local_times(settings: Settings) -> None:
    postponed, population = read_file(str(NATIVE / "calendar.yaml"), settings)
    assert postponed.status is Status.POSTPONED
    change = postponed.date_changes[0]
    assert isinstance(change.previous_date, datetime)
    assert change.reason == "Late delivery of survey data."
    assert change.changed_at is not None
    # A time without an offset is read in the site's zone: June is BST.
    assert population.release_date is not None
    assert population.release_date.isoformat() == "2027-06-25T09:30:00+01:00"
    assert population.census is True


def test_csv_with_date_changes_and_downloads(settings: Settings) -> None:
    gdp, trade, census = read_file(str(NATIVE / "calendar.csv"), settings)
    assert [t.label for t in gdp.topics] == ["Economy", "GDP"]
    assert gdp.keywords == ("gdp", "growth")
    assert len(gdp.datasets) == 1
    assert [d.url for d in gdp.datasets[0].downloads] == [
        "https://www.example.org/files/gdp-2027-03.csv",
        "https://www.example.org/files/gdp-2027-03.xlsx",
    ]
    assert gdp.datasets[0].downloads[0].size == 34567
    assert trade.date_changes[0].reason == "Aligned with GDP publication."
    assert trade.census is False
    assert census.census is True
    assert census.provisional_date == "Summer 2027"
    # CSV reports name the 1-based column
    assert gdp.source is not None
    assert gdp.source.field_name("datasets[0].downloads[1].format") == (
        "datasets.1.downloads.2.format"
    )


def test_date_only_previous_date_is_a_date(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "r.json"
    path.write_text(
        json.dumps(
            {
                "id": "x-release",
                "title": "X",
                "status": "postponed",
                "release_date": "2027-01-20T09:30:00Z",
                "date_changes": [{"previous_date": "2027-01-13", "reason": "r"}],
            }
        )
    )
    (release,) = read_file(str(path), settings)
    assert release.date_changes[0].previous_date == date(2027, 1, 13)


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _record(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {"id": "a-release", "title": "A", "status": "confirmed"}
    base.update(fields)
    return base


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "bad.json",
            '{"releases": [ {"id": "a"',
            ["bad.json", "not valid JSON", "line 1"],
        ),
        (
            "bad.csv",
            "id,title,status\na-release,A,confirmed,extra\n",
            ["bad.csv", "record 1", "4 cells"],
        ),
        (
            "odd.json",
            json.dumps({"kind": "something else"}),
            ["odd.json", "unknown format"],
        ),
        (
            "impossible.json",
            json.dumps([_record(release_date="2027-02-30T09:30:00Z")]),
            ["impossible.json", "record 1 (a-release)", "field 'release_date'"],
        ),
        (
            "no-time.json",
            json.dumps([_record(release_date="2027-02-03")]),
            ["record 1 (a-release)", "field 'release_date'", "has no time"],
        ),
        (
            "typo.json",
            json.dumps([_record(sumary="x")]),
            ["field 'sumary'", "did you mean 'summary'"],
        ),
        (
            "status.json",
            json.dumps([_record(status="tentative")]),
            ["field 'status'", "provisional, confirmed"],
        ),
        (
            "slug.json",
            json.dumps([_record(id="Not A Slug")]),
            ["field 'id'", "not a slug"],
        ),
        (
            "size.json",
            json.dumps(
                [
                    _record(
                        datasets=[
                            {"title": "T", "downloads": [{"url": "u", "size": "big"}]}
                        ]
                    )
                ]
            ),
            ["field 'datasets[0].downloads[0].size'", "whole number of bytes"],
        ),
        ("empty.json", "   \n", ["empty.json", "is empty"]),
        ("header-only.csv", "id,title,status\n", ["header-only.csv", "no releases"]),
        ("bad.yaml", "id: [unclosed\n", ["bad.yaml", "not valid YAML", "line"]),
        (
            "bad.jsonl",
            '{"id": "a-release", "title": "A", "status": "confirmed"}\n{"id": \n',
            ["bad.jsonl", "line 2", "record 2"],
        ),
    ],
)
def test_input_errors_name_file_record_and_field(
    tmp_path: Path, settings: Settings, name: str, text: str, expected: list[str]
) -> None:
    path = _write(tmp_path, name, text)
    with pytest.raises(InputError) as info:
        read_file(path, settings)
    message = str(info.value)
    assert "\n" not in message
    for part in expected:
        assert part in message, message


def test_missing_file(tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_file(str(tmp_path / "nope.json"), settings)


def test_forced_format_must_match(settings: Settings) -> None:
    with pytest.raises(InputError, match="does not look like ons-api"):
        read_file(str(NATIVE / "calendar.json"), settings, "ons-api")


def test_unknown_format_name(settings: Settings) -> None:
    with pytest.raises(InputError, match="unknown format 'xml'"):
        read_file(str(NATIVE / "calendar.json"), settings, "xml")


@pytest.mark.parametrize(
    ("extra", "field", "words"),
    [
        ({"next_release_id": "Next Edition"}, "next_release_id", "is not an id"),
        ({"previous_edition": "a/b"}, "previous_edition", "is not an id"),
        ({"release_date": "0206-02-14T04:44:00-17:31"}, "release_date", "the year 206"),
        ({"release_date": "9999-12-31T23:59:59-12:00"}, "release_date", "9999"),
        (
            {"date_changes": [{"previous_date": "1066-10-14"}]},
            "date_changes[0].previous_date",
            "1900 to 2999",
        ),
    ],
)
def test_ids_and_dates_out_of_range_are_input_errors(
    tmp_path: Path, settings: Settings, extra: dict[str, object], field: str, words: str
) -> None:
    """Refused with the file, record and field, never a crash further on."""
    record = {"id": "a-release", "title": "A release", "status": "confirmed"}
    record["release_date"] = "2027-01-20T07:00:00Z"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([{**record, **extra}]))
    with pytest.raises(InputError) as caught:
        read_file(str(path), settings)
    assert caught.value.field == field
    assert caught.value.record == 1 and caught.value.record_id == "a-release"
    assert words in caught.value.message


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"license": "http://example.org/a b"}, "license"),
        ({"license": "^x"}, "license"),
        ({"same_as": ["https://x.example/<a>"]}, "same_as"),
        (
            {"datasets": [{"title": "D", "downloads": [{"url": "http://a/{x}"}]}]},
            "datasets[0].downloads[0].url",
        ),
        (
            {"related_documents": [{"url": "https://a.example/a b"}]},
            "related_documents[0].url",
        ),
    ],
)
def test_links_that_cannot_be_iris_are_shape_violations(
    settings: Settings, extra: dict[str, object], field: str
) -> None:
    """The shapes report them with their message (the RDF writer once crashed)."""
    from publisher.importers._common import Where
    from publisher.importers.native import release_from_record
    from publisher.pipeline import run_batch_text

    record = {
        "id": "a-release",
        "title": "A release",
        "status": "confirmed",
        "release_date": "2027-01-20T07:00:00Z",
        "summary": "A release whose links are checked by the shapes, not the writer.",
        **extra,
    }
    release = release_from_record(record, Where("links.json", 1), settings)
    outcome = run_batch_text([release], settings, "ntriples")
    assert not outcome.written
    fields = {r.field for r in outcome.report.violations}
    assert field in fields
    assert any("absolute http(s)" in r.message for r in outcome.report.violations)


# Local times that London's clocks skip or show twice (issue 10, defect 12) ----


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("gap.json", json.dumps([_record(release_date="2026-03-29T01:30")])),
        ("gap.yaml", "id: a-release\ntitle: A\nrelease_date: 2026-03-29T01:30:00\n"),
        ("gap-space.yaml", "id: a-release\ntitle: A\nrelease_date: 2026-03-29 01:30\n"),
        ("gap.csv", "id,title,release_date\na-release,A,2026-03-29T01:30\n"),
        ("gap.jsonl", json.dumps(_record(published_date="2026-03-29T01:59:59"))),
        (
            "gap-change.json",
            json.dumps([_record(date_changes=[{"previous_date": "2026-03-29T01:00"}])]),
        ),
    ],
)
def test_a_time_in_the_spring_gap_is_refused(
    tmp_path: Path, settings: Settings, name: str, text: str
) -> None:
    # zoneinfo gives 01:30 on 29 March 2026 the offset +00:00, an instant
    # London's clocks never showed (they go from 00:59:59 to 02:00).
    with pytest.raises(InputError) as info:
        read_file(_write(tmp_path, name, text), settings)
    message = str(info.value)
    assert f"{name}, record 1 (a-release), field '" in message
    assert "does not exist in Europe/London" in message


@pytest.mark.parametrize("value", ["2026-10-25T01:30", "2026-10-25T01:00:00"])
def test_a_time_in_the_repeated_autumn_hour_needs_its_offset(
    tmp_path: Path, settings: Settings, value: str
) -> None:
    path = _write(tmp_path, "fold.json", json.dumps([_record(release_date=value)]))
    with pytest.raises(InputError) as info:
        read_file(path, settings)
    message = str(info.value)
    assert "fold.json, record 1 (a-release), field 'release_date'" in message
    assert "happens twice in Europe/London" in message
    assert "+01:00 or " in message and "+00:00" in message


@pytest.mark.parametrize(
    ("value", "utc_hour"),
    [
        ("2026-10-25T01:30+01:00", 0),  # the first 01:30
        ("2026-10-25T01:30+00:00", 1),  # the second
        ("2026-10-25T02:30", 2),  # after the change: GMT, unambiguous
        ("2026-03-29T02:30", 1),  # after the gap: BST
        ("2026-03-29T00:30", 0),  # before it: GMT
    ],
)
def test_times_around_the_changes_keep_their_instant(
    tmp_path: Path, settings: Settings, value: str, utc_hour: int
) -> None:
    path = _write(tmp_path, "ok.json", json.dumps([_record(release_date=value)]))
    (release,) = read_file(path, settings)
    assert release.release_date is not None
    assert release.release_date.astimezone(UTC).hour == utc_hour


def test_a_gov_uk_display_time_in_the_gap_is_refused(
    tmp_path: Path, settings: Settings
) -> None:
    item = json.loads((FIXTURES / "govuk" / "confirmed.json").read_text())
    item["details"]["display_date"] = "29 March 2026 1:30am"
    path = _write(tmp_path, "announcement.json", json.dumps(item))
    with pytest.raises(InputError) as info:
        read_file(path, settings, "govuk")
    message = str(info.value)
    assert "field 'details.display_date'" in message
    assert "does not exist in Europe/London" in message


# Positions in CSV column names are bounded (issue 10, defect 6) --------------


@pytest.mark.parametrize(
    ("column", "words"),
    [
        ("datasets.1001.title", "position 1001 is too high"),
        ("datasets.99999999.title", "position 99999999 is too high"),
        ("datasets.1.downloads.5000.url", "position 5000 is too high"),
        ("datasets." + "9" * 5000 + ".title", "is too high"),  # past int()'s digits
        ("datasets.\u00b2.title", "not a column of the native CSV format"),
    ],
)
def test_csv_positions_are_bounded(
    tmp_path: Path, settings: Settings, column: str, words: str
) -> None:
    path = _write(tmp_path, "wide.csv", f"id,title,{column}\na-release,A,x\n")
    with pytest.raises(InputError) as info:
        read_file(path, settings)
    message = str(info.value)
    named = column if len(column) <= 100 else column[:100] + "…"
    assert f"wide.csv, record 1 (a-release), field '{named}'" in message
    assert words in message


def test_csv_position_1000_is_allowed(tmp_path: Path, settings: Settings) -> None:
    path = _write(
        tmp_path, "ok.csv", "id,title,datasets.1000.title\na-release,A,Last\n"
    )
    (release,) = read_file(path, settings)
    assert [d.title for d in release.datasets] == ["Last"]


@pytest.mark.parametrize("key", ["", "a\nb", "x\u2028y", "\x1b[31mred", "k" * 500])
def test_an_odd_unknown_field_is_named_on_one_line(
    tmp_path: Path, settings: Settings, key: str
) -> None:
    # A key with a line break or a control character was printed raw (two lines,
    # or a terminal escape); an empty key was not named at all.
    path = _write(tmp_path, "odd.json", json.dumps([_record(**{key: 1})]))
    with pytest.raises(InputError) as info:
        read_file(path, settings)
    message = str(info.value)
    assert message.isprintable(), repr(message)
    assert "odd.json, record 1 (a-release), field '" in message
    assert message.endswith("': unknown field") or "did you mean" in message
    assert len(message) < 300


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("2027-02-30 09:30:00", "field 'release_date': '2027-02-30 09:30:00' is not"),
        ("2027-02-30", "field 'release_date': '2027-02-30' has no time"),
        ("2027-01-20 25:00:00", "field 'release_date'"),
        ('!!int "x"', "is not valid YAML: a tagged value cannot be read"),
        ('!!bool "x"', "is not valid YAML: a tagged value cannot be read"),
    ],
)
def test_yaml_values_that_are_not_real_dates_are_input_errors(
    tmp_path: Path, settings: Settings, value: str, words: str
) -> None:
    # PyYAML's timestamp constructor raised ValueError (day is out of range for
    # month) from inside the loader: a traceback. Timestamps now stay text and
    # are read by the importer, which names the field.
    text = f"id: a-release\ntitle: A\nstatus: confirmed\nrelease_date: {value}\n"
    with pytest.raises(InputError) as info:
        read_file(_write(tmp_path, "dates.yaml", text), settings)
    assert "dates.yaml" in str(info.value)
    assert words in str(info.value)


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        (
            "size.csv",
            "id,title,datasets.1.title,datasets.1.downloads.1.url,"
            "datasets.1.downloads.1.size\na-release,A,D,https://example.org/f,\u00b2\n",
            "field 'datasets[0].downloads[0].size': expected a whole number",
        ),
        (
            "size.csv",
            "id,title,datasets.1.title,datasets.1.downloads.1.url,"
            "datasets.1.downloads.1.size\na-release,A,D,https://example.org/f,"
            + "9" * 5000
            + "\n",
            "field 'datasets[0].downloads[0].size': a size of more than 18 digits",
        ),
        ("long.json", '[{"id": "a-release", "title": ' + "1" * 5000 + "}]", "too long"),
        ("long.jsonl", '{"id": "a-release", "title": ' + "1" * 5000 + "}\n", "line 1"),
    ],
)
def test_numbers_python_cannot_read_are_input_errors(
    tmp_path: Path, settings: Settings, name: str, text: str, words: str
) -> None:
    # int('²') and int() of more than 4,300 digits raise ValueError: a traceback.
    with pytest.raises(InputError) as info:
        read_file(_write(tmp_path, name, text), settings)
    assert name in str(info.value) and words in str(info.value), str(info.value)
