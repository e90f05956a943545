"""A big re-import into an embedded store on disk is staged in a copy and swapped
in (issue 10, defect 12): the same store as one transaction, all or nothing."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from publisher import pipeline
from publisher.config import Settings
from publisher.errors import StoreError
from publisher.model import Release
from publisher.store import catalog
from publisher.store.index import ListingIndex
from publisher.store.oxigraph import EmbeddedStore, StreamedLoad


def _dump(store: EmbeddedStore) -> list[str]:
    out = io.BytesIO()
    store.dump(out, "nquads")
    return sorted(line for line in out.getvalue().decode().split("\n") if line)


def _fixed_clock(monkeypatch: pytest.MonkeyPatch, tick: list[int]) -> None:
    """Same data versions and times in both stores, so their dumps compare."""
    from datetime import UTC, datetime

    def version() -> str:
        tick[0] += 1
        return f"v{tick[0]}"

    monkeypatch.setattr(catalog.writes, "new_data_version", version)
    monkeypatch.setattr(
        catalog.writes, "now", lambda: datetime(2026, 1, 1, 9, tick[0], tzinfo=UTC)
    )


def _changed(releases: list[Release]) -> list[Release]:
    """Every other release with a new summary; the rest unchanged."""
    return [
        replace(r, summary=(r.summary or "") + " Revised.") if n % 2 == 0 else r
        for n, r in enumerate(releases)
    ]


def _import(
    store: EmbeddedStore, releases: list[Release], *, exclusive: bool
) -> catalog.PublishResult:
    outcome = pipeline.import_batch(
        releases, Settings(), store, jobs=1, exclusive=exclusive
    )
    assert outcome.published is not None, outcome.batch.report.to_text()
    return outcome.published


def test_a_staged_reimport_writes_what_one_transaction_writes(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sample_releases: list[Release],
) -> None:
    monkeypatch.setattr(catalog.writes, "BULK_MIN", 2)
    staged_calls: list[int] = []
    original = EmbeddedStore.bulk_replace_staged

    def counted(self: EmbeddedStore, *args: Any) -> None:
        staged_calls.append(1)
        original(self, *args)

    monkeypatch.setattr(EmbeddedStore, "bulk_replace_staged", counted)
    dumps, results = [], []
    for name, exclusive in (("staged", True), ("transaction", False)):
        _fixed_clock(monkeypatch, [0])
        with EmbeddedStore.open(tmp_path / name) as store:
            _import(store, sample_releases, exclusive=exclusive)
            results.append(
                _import(store, _changed(sample_releases), exclusive=exclusive)
            )
            dumps.append(_dump(store))
    assert staged_calls == [1], "the exclusive re-import took the staged path"
    staged, transaction = results
    assert staged == transaction
    assert staged.unchanged == [r.slug for r in sample_releases[1::2]]
    assert dumps[0] == dumps[1]  # history, issued dates, catalogue: all the same
    assert not list(tmp_path.glob("*.staging")) and not list(tmp_path.glob("*.old"))


def test_a_failed_staged_write_leaves_the_store_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample_releases: list[Release]
) -> None:
    with EmbeddedStore.open(tmp_path / "store") as store:
        _import(store, sample_releases, exclusive=True)
        before = _dump(store)
        bad = tmp_path / "bad.nq"
        bad.write_text("<http://x> <http://y> .\n")
        with pytest.raises(StoreError):
            store.bulk_replace_staged([], str(bad))
        assert _dump(store) == before
    assert not (tmp_path / "store.staging").exists()


def test_a_crash_between_the_swaps_renames_leaves_the_old_store(
    tmp_path: Path, sample_releases: list[Release]
) -> None:
    target = tmp_path / "store"
    with EmbeddedStore.open(target) as store:
        _import(store, sample_releases, exclusive=True)
        before = _dump(store)
        store.store.backup(str(tmp_path / "store.staging"))
    target.rename(tmp_path / "store.old")  # the first rename, then kill -9
    with EmbeddedStore.open(target) as store:
        assert _dump(store) == before
    assert not (tmp_path / "store.old").exists()
    assert not (tmp_path / "store.staging").exists()


def _streamed_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    original = EmbeddedStore.streamed_load

    def counted(self: EmbeddedStore) -> StreamedLoad | None:
        load = original(self)
        calls.append(0 if load is None else 1)
        return load

    monkeypatch.setattr(EmbeddedStore, "streamed_load", counted)
    return calls


def test_a_big_first_import_loads_while_it_validates_and_writes_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample_releases: list[Release]
) -> None:
    """Streamed into the bulk loader chunk by chunk (issue 12): the same store as
    publish's bulk load of the whole file, and index rows taken from the releases
    as written that are those a rebuild reads back from the store."""
    monkeypatch.setattr(catalog.writes, "BULK_MIN", 2)
    monkeypatch.setattr(pipeline, "CHUNK", 2)  # several chunks, fed as they come
    monkeypatch.setattr(StreamedLoad, "BLOCK", 100)  # many hand-overs
    calls = _streamed_calls(monkeypatch)
    dumps, known = [], {}
    settings = Settings()
    for name, exclusive in (("streamed", True), ("whole", False)):
        _fixed_clock(monkeypatch, [0])
        with EmbeddedStore.open(tmp_path / name) as store:
            outcome = pipeline.import_batch(
                sample_releases, settings, store, jobs=1, exclusive=exclusive
            )
            assert outcome.published is not None, outcome.batch.report.to_text()
            assert outcome.published.changed == [r.slug for r in sample_releases]
            dumps.append(_dump(store))
            if exclusive:
                known = outcome.batch.known
                given, rebuilt = ListingIndex(":memory:"), ListingIndex(":memory:")
                given.sync_known(store, settings, known)
                rebuilt.rebuild(store, settings)
                assert given.all_rows() == rebuilt.all_rows()
                assert given.count_by_topic() == rebuilt.count_by_topic()
                for word in ("statistics", "labour", "census"):
                    assert given.search(word) == rebuilt.search(word)
    assert calls == [1], "only the exclusive import into an empty store streams"
    assert len(known) == len(sample_releases)
    assert dumps[0] == dumps[1]
    assert not list(tmp_path.glob("*.staging")) and not list(tmp_path.glob("*.old"))


def test_a_violation_late_in_a_streamed_import_publishes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample_releases: list[Release]
) -> None:
    monkeypatch.setattr(catalog.writes, "BULK_MIN", 2)
    monkeypatch.setattr(pipeline, "CHUNK", 2)
    calls = _streamed_calls(monkeypatch)
    broken = [*sample_releases[:-1], replace(sample_releases[-1], title=None)]
    with EmbeddedStore.open(tmp_path / "store") as store:
        outcome = pipeline.import_batch(broken, Settings(), store, exclusive=True)
        assert outcome.published is None
        assert not outcome.batch.written
        assert [r.record_id for r in outcome.batch.report.violations] == [
            broken[-1].source.record_id if broken[-1].source else broken[-1].slug
        ]
        assert store.count_quads() == 0, "the loaded chunks are not visible"
    assert calls == [1]
    assert not (tmp_path / "store.staging").exists()


def test_a_failed_streamed_load_leaves_the_store_empty(tmp_path: Path) -> None:
    with EmbeddedStore.open(tmp_path / "store") as store:
        load = store.streamed_load()
        assert load is not None
        load.write("<http://example.org/a> <http://example.org/b> .\n")
        with pytest.raises(StoreError, match="bulk load"):
            load.commit()
        assert store.count_quads() == 0
        load.abandon()  # twice: nothing more to do
        assert not (tmp_path / "store.staging").exists()
        other = store.streamed_load()  # and the store still takes a load
        assert other is not None
        other.write(
            "<http://example.org/a> <http://example.org/b> <http://example.org/c> "
            "<http://example.org/g> .\n"
        )
        other.commit()
        assert store.count_quads() == 1
        assert store.streamed_load() is None, "only an empty store is loaded so"
