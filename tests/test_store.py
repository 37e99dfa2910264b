"""Results folders: atomic Parquet + manifest writes, loading, errors, sweeps, cleanup."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import os
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dyad
from dyad.errors import ResultsError
from dyad.store import (
    MANIFEST,
    RunResults,
    TableNotFound,
    categorize,
    clean_partial,
    find_runs,
    load_run,
    load_runs,
    write_run,
)
from dyad.store import write as store_write


def interaction_table(n: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    infant = np.where((np.arange(n) // 10) % 2 == 0, "happy", "sad")
    parent = infant.copy()
    flip = rng.random(n) < 0.2
    parent[flip] = np.where(infant[flip] == "happy", "sad", "happy")
    return pd.DataFrame(
        {
            "t": np.arange(n, dtype=np.int64),
            "infant_expression": pd.array(infant, dtype="str"),
            "parent": pd.array(["mother"] * n, dtype="str"),
            "parent_expression": pd.array(parent, dtype="str"),
            "congruent": infant == parent,
            "mirror_mean_rate": rng.random(n).astype(np.float32),
            "mirror_active": rng.integers(0, 50, n).astype(np.int32),
        }
    )


def responses_table() -> pd.DataFrame:
    index = pd.MultiIndex.from_product(
        [["before", "after"], ["visual", "motor"], ["happy", "sad"], range(3), range(5)],
        names=["phase", "condition", "expression", "trial", "neuron"],
    )
    table = index.to_frame(index=False)
    table["rate"] = np.linspace(0, 1, len(table), dtype=np.float32)
    for name in ["phase", "condition", "expression"]:
        table[name] = pd.Categorical(table[name], categories=list(pd.unique(table[name])))
    return table


def sample_tables() -> dict[str, pd.DataFrame]:
    return {"interaction": interaction_table(), "test_responses": responses_table()}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclasses.dataclass(frozen=True)
class Sizes:
    side: int = 32
    radii: tuple[float, ...] = (1.0, 2.5)


# --------------------------------------------------------------------------------------------
# round trip and manifest


def test_tables_round_trip_equal(tmp_path):
    tables = sample_tables()
    write_run(tmp_path / "run", tables, {"seed": 3})
    results = load_run(tmp_path / "run")
    assert results.names() == ["interaction", "test_responses"]
    pd.testing.assert_frame_equal(results["interaction"], categorize(tables["interaction"]))
    # already-categorical input comes back exactly, categories in their original order
    pd.testing.assert_frame_equal(results["test_responses"], tables["test_responses"])
    assert list(results["test_responses"]["phase"].cat.categories) == ["before", "after"]
    # float32 stays float32
    assert results["interaction"]["mirror_mean_rate"].dtype == np.float32


def test_float_columns_are_stored_byte_stream_split(tmp_path):
    """Floats are byte-stream-split (smaller files), read back bit for bit, NaN included."""
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    table = pd.DataFrame(
        {
            "t": np.arange(1000, dtype=np.int32),
            "rate": rng.random(1000, dtype=np.float32),
            "d": np.r_[rng.normal(size=999), np.nan],
        }
    )
    write_run(tmp_path / "run", {"rates": table}, {}, categorize_strings=False)
    path = tmp_path / "run" / "rates.parquet"
    meta = pq.ParquetFile(path).metadata.row_group(0)
    encodings = {meta.column(i).path_in_schema: meta.column(i).encodings for i in range(3)}
    assert "BYTE_STREAM_SPLIT" in encodings["rate"] and "BYTE_STREAM_SPLIT" in encodings["d"]
    assert "BYTE_STREAM_SPLIT" not in encodings["t"]
    pd.testing.assert_frame_equal(load_run(tmp_path / "run").rates, table)


def test_complete_columns_are_required_and_no_statistics_are_written(tmp_path):
    """Columns that miss no value skip definition levels; a run's file is one row group."""
    import pyarrow.parquet as pq

    table = pd.DataFrame(
        {
            "t": np.arange(100, dtype=np.int32),
            "rate": np.linspace(0, 1, 100, dtype=np.float32),
            "d": np.r_[np.ones(99), np.nan],
        }
    )
    write_run(tmp_path / "run", {"rates": table}, {}, categorize_strings=False)
    path = tmp_path / "run" / "rates.parquet"
    schema = pq.read_schema(path)
    assert [schema.field(name).nullable for name in table.columns] == [False, False, True]
    meta = pq.ParquetFile(path).metadata
    assert meta.num_row_groups == 1
    assert all(not meta.row_group(0).column(i).is_stats_set for i in range(3))
    pd.testing.assert_frame_equal(load_run(tmp_path / "run").rates, table)


def test_round_trip_exact_without_categorizing(tmp_path):
    table = interaction_table()
    write_run(tmp_path / "run", {"interaction": table}, {}, categorize_strings=False)
    pd.testing.assert_frame_equal(load_run(tmp_path / "run").interaction, table)


def test_categorize_keeps_appearance_order_and_skips_unsuitable_columns():
    table = pd.DataFrame(
        {
            "expression": ["sad", "happy", "sad", "happy", "sad", None],
            "label": ["a", "b", "c", "d", "e", "f"],  # all distinct: no size gain
            "mixed": ["x", 1, "x", 1, "x", 1],
            "value": np.arange(6.0),
        }
    )
    out = categorize(table)
    assert isinstance(out["expression"].dtype, pd.CategoricalDtype)
    assert list(out["expression"].cat.categories) == ["sad", "happy"]
    assert out["expression"].isna().tolist() == [False] * 5 + [True]
    assert not isinstance(out["label"].dtype, pd.CategoricalDtype)
    assert not isinstance(out["mixed"].dtype, pd.CategoricalDtype)
    assert out["value"].dtype == np.float64
    assert table["expression"].dtype != out["expression"].dtype  # input untouched


def test_manifest_records_tables_checksums_and_caller_fields(tmp_path):
    folder = write_run(
        tmp_path / "run",
        sample_tables(),
        {
            "seed": np.int64(7),
            "scenario": {"name": "mimicry", "sizes": Sizes(), "path": Path("/x/s.toml")},
            "timings": {"interact_s": 1.5, "broken": float("nan")},
            "plugins": {"perfect": "dyad.policies"},
        },
    )
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["format"] == "dyad-results"
    assert manifest["dyad_version"] == dyad.__version__
    assert manifest["seed"] == 7
    assert manifest["scenario"]["sizes"] == {"side": 32, "radii": [1.0, 2.5]}
    assert manifest["scenario"]["path"] == "/x/s.toml"
    assert manifest["timings"] == {"interact_s": 1.5, "broken": None}
    assert manifest["plugins"] == {"perfect": "dyad.policies"}
    assert set(manifest["tables"]) == {"interaction", "test_responses"}
    entry = manifest["tables"]["test_responses"]
    assert entry["rows"] == 2 * 2 * 2 * 3 * 5
    assert entry["file"] == "test_responses.parquet"
    assert entry["sha256"] == sha256(folder / "test_responses.parquet")
    assert entry["columns"] == ["phase", "condition", "expression", "trial", "neuron", "rate"]
    assert manifest["tables"]["interaction"]["rows"] == 40


def test_manifest_is_written_last_and_files_via_temp_names(tmp_path, monkeypatch):
    replaced: list[tuple[str, str]] = []
    real_replace = os.replace

    def recording_replace(src, dst):
        replaced.append((Path(src).name, Path(dst).name))
        real_replace(src, dst)

    monkeypatch.setattr(store_write.os, "replace", recording_replace)
    write_run(tmp_path / "run", sample_tables(), {})
    targets = [dst for _, dst in replaced]
    assert targets == ["interaction.parquet", "test_responses.parquet", MANIFEST]
    assert all(src.startswith(".") and ".tmp-" in src for src, _ in replaced)
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == sorted(targets)


def test_reserved_keys_and_bad_table_names_are_refused(tmp_path):
    with pytest.raises(ValueError, match="reserved"):
        write_run(tmp_path / "a", sample_tables(), {"tables": 1})
    with pytest.raises(ValueError, match="safe file name"):
        write_run(tmp_path / "b", {"../escape": interaction_table()}, {})
    with pytest.raises(TypeError, match="DataFrame"):
        write_run(tmp_path / "c", {"x": [1, 2]}, {})
    with pytest.raises(TypeError, match=r"manifest\.thing"):
        write_run(tmp_path / "d", {}, {"thing": object()})


def test_figures_are_copied_in_and_checksummed(tmp_path):
    outside = tmp_path / "plots" / "rates.png"
    outside.parent.mkdir()
    outside.write_bytes(b"\x89PNG fake image bytes")
    other = tmp_path / "plots" / "info.svg"
    other.write_text("<svg/>")
    folder = tmp_path / "run"
    write_run(folder, sample_tables(), {}, figures={"rates": outside, "info": other})
    results = load_run(folder)
    assert results.manifest["figures"]["rates"]["file"] == "figures/rates.png"
    assert results.manifest["figures"]["info"]["file"] == "figures/info.svg"
    assert results.figures["rates"].read_bytes() == outside.read_bytes()
    (folder / "figures" / "rates.png").write_bytes(b"changed")
    with pytest.raises(ResultsError, match="checksum mismatch for figure 'rates'"):
        load_run(folder)


# --------------------------------------------------------------------------------------------
# crashes and overwriting


def failing_second_table(monkeypatch):
    real = store_write._write_parquet
    calls = {"n": 0}

    def write(table, handle):
        calls["n"] += 1
        if calls["n"] == 2:
            handle.write(b"partial bytes")
            raise OSError("disk full")
        real(table, handle)

    monkeypatch.setattr(store_write, "_write_parquet", write)


def test_crash_mid_write_leaves_nothing_behind(tmp_path, monkeypatch):
    failing_second_table(monkeypatch)
    folder = tmp_path / "run"
    with pytest.raises(OSError, match="disk full"):
        write_run(folder, sample_tables(), {})
    assert list(tmp_path.iterdir()) == []
    assert find_runs(tmp_path) == []


def test_an_old_incomplete_folder_is_reported_as_interrupted(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "interaction.parquet").write_bytes(b"partial")
    with pytest.raises(ResultsError, match=r"incomplete run: .*\(interrupted\?\)") as info:
        load_run(folder)
    assert str(folder) in str(info.value)
    assert find_runs(tmp_path) == []


def test_existing_complete_run_needs_overwrite(tmp_path):
    folder = write_run(tmp_path / "run", sample_tables(), {"seed": 1})
    with pytest.raises(ResultsError, match="already holds a complete run"):
        write_run(folder, sample_tables(), {"seed": 2})
    assert load_run(folder).manifest["seed"] == 1
    write_run(folder, {"interaction": interaction_table(10)}, {"seed": 2}, overwrite=True)
    results = load_run(folder)
    assert results.manifest["seed"] == 2
    assert results.names() == ["interaction"]
    assert len(results.interaction) == 10
    # the old run's table that the new run does not have is gone
    assert not (folder / "test_responses.parquet").exists()


def test_crash_during_overwrite_leaves_the_old_run_intact(tmp_path, monkeypatch):
    folder = write_run(tmp_path / "run", sample_tables(), {"seed": 1})
    failing_second_table(monkeypatch)
    with pytest.raises(OSError):
        write_run(folder, sample_tables(), {"seed": 2}, overwrite=True)
    assert load_run(folder).manifest["seed"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_incomplete_folder_can_be_written_without_overwrite(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "interaction.parquet").write_bytes(b"left over")
    (folder / ".interaction.parquet.tmp-1-abc").write_bytes(b"temp")
    write_run(folder, sample_tables(), {})
    assert not (folder / ".interaction.parquet.tmp-1-abc").exists()
    pd.testing.assert_frame_equal(load_run(folder).interaction, categorize(interaction_table()))


# --------------------------------------------------------------------------------------------
# loading errors


def assert_one_line_naming(error: pytest.ExceptionInfo, folder: Path) -> None:
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(str(folder))


def test_missing_folder(tmp_path):
    with pytest.raises(ResultsError, match="does not exist") as info:
        load_run(tmp_path / "nope")
    assert_one_line_naming(info, tmp_path / "nope")


def test_folder_without_manifest_is_not_a_results_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ResultsError, match="not a dyad results folder") as info:
        load_run(tmp_path)
    assert_one_line_naming(info, tmp_path)


def test_corrupt_manifest(tmp_path):
    folder = write_run(tmp_path / "run", sample_tables(), {})
    text = (folder / MANIFEST).read_text()
    (folder / MANIFEST).write_text(text[: len(text) // 2])
    with pytest.raises(ResultsError, match=r"corrupt manifest\.json \(.* line \d+") as info:
        load_run(folder)
    assert_one_line_naming(info, folder)
    (folder / MANIFEST).write_text('{"hello": 1}')
    with pytest.raises(ResultsError, match="not a dyad results manifest"):
        load_run(folder)


def test_listed_table_missing(tmp_path):
    folder = write_run(tmp_path / "run", sample_tables(), {})
    (folder / "test_responses.parquet").unlink()
    with pytest.raises(ResultsError, match="'test_responses' listed in manifest.json is missing"):
        load_run(folder, verify=False)


def test_checksum_mismatch_only_when_verifying(tmp_path):
    folder = write_run(tmp_path / "run", sample_tables(), {})
    path = folder / "interaction.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ResultsError, match="checksum mismatch for table 'interaction'") as info:
        load_run(folder)
    assert_one_line_naming(info, folder)
    results = load_run(folder, verify=False)
    pd.testing.assert_frame_equal(results.test_responses, responses_table())


def test_unreadable_table_is_a_results_error(tmp_path):
    folder = write_run(tmp_path / "run", sample_tables(), {})
    (folder / "interaction.parquet").write_bytes(b"not parquet at all")
    results = load_run(folder, verify=False)
    with pytest.raises(ResultsError, match="cannot read table 'interaction'"):
        _ = results.interaction


# --------------------------------------------------------------------------------------------
# RunResults


def test_tables_load_lazily(tmp_path):
    folder = write_run(tmp_path / "run", sample_tables(), {})
    results = load_run(folder)
    # interaction was never read; removing its file now shows it is read only on access
    (folder / "interaction.parquet").unlink()
    assert len(results.test_responses) == 120
    with pytest.raises(ResultsError, match="is missing"):
        results["interaction"]


def test_run_results_access(tmp_path):
    folder = write_run(tmp_path / "run", sample_tables(), {"seed": 5})
    results = load_run(folder)
    assert isinstance(results, RunResults)
    assert results.folder == folder
    assert results["interaction"] is results.interaction  # cached after first read
    assert "interaction" in results and "neurons" not in results
    with pytest.raises(TableNotFound, match="no table 'neurons'") as info:
        results["neurons"]
    assert isinstance(info.value, KeyError) and isinstance(info.value, ResultsError)
    with pytest.raises(AttributeError, match="neurons"):
        _ = results.neurons
    clone = pickle.loads(pickle.dumps(results))
    pd.testing.assert_frame_equal(clone.interaction, results.interaction)
    assert copy.copy(results).manifest["seed"] == 5


# --------------------------------------------------------------------------------------------
# many runs


def write_sweep(root: Path) -> None:
    for q in (0.0, 0.5):
        for seed in (1, 2):
            write_run(
                root / f"q={q}" / f"seed={seed}",
                {"interaction": interaction_table(8, seed)},
                {"run_id": f"q{q}-s{seed}", "seed": seed, "parameters": {"policy": {"q": q}}},
            )


def test_find_runs_lists_complete_runs_only(tmp_path):
    write_sweep(tmp_path)
    (tmp_path / "q=0.5" / "seed=3").mkdir()
    (tmp_path / "q=0.5" / "seed=3" / "interaction.parquet").write_bytes(b"partial")
    runs = find_runs(tmp_path)
    assert [r.relative_to(tmp_path).as_posix() for r in runs] == [
        "q=0.0/seed=1",
        "q=0.0/seed=2",
        "q=0.5/seed=1",
        "q=0.5/seed=2",
    ]
    with pytest.raises(ResultsError, match="does not exist"):
        find_runs(tmp_path / "missing")


def test_load_runs_adds_run_columns(tmp_path):
    write_sweep(tmp_path)
    write_run(tmp_path / "extra", {"interaction": interaction_table(4)}, {})
    combined = load_runs(tmp_path, "interaction")
    assert len(combined) == 4 * 8 + 4
    assert list(combined.columns[:3]) == ["run_id", "seed", "policy.q"]
    counts = combined.groupby("run_id", observed=True).size()
    assert counts.to_dict() == {"extra": 4, "q0.0-s1": 8, "q0.0-s2": 8, "q0.5-s1": 8, "q0.5-s2": 8}
    one = combined[combined["run_id"] == "q0.5-s2"]
    assert (one["seed"] == 2).all() and (one["policy.q"] == 0.5).all()
    pd.testing.assert_frame_equal(
        one[list(interaction_table().columns)].reset_index(drop=True),
        categorize(interaction_table(8, 2)),
        check_categorical=False,
    )
    extra = combined[combined["run_id"] == "extra"]
    assert extra["policy.q"].isna().all() and extra["seed"].isna().all()
    assert isinstance(combined["infant_expression"].dtype, pd.CategoricalDtype)


def test_load_runs_errors(tmp_path):
    with pytest.raises(ResultsError, match="no complete runs"):
        load_runs(tmp_path, "interaction")
    write_sweep(tmp_path)
    with pytest.raises(ResultsError, match="no table 'neurons'"):
        load_runs(tmp_path, "neurons")
    write_run(
        tmp_path / "clash",
        {"interaction": interaction_table(4)},
        {"parameters": {"t": 3}},
    )
    with pytest.raises(ResultsError, match=r"already has column\(s\) \['t'\]"):
        load_runs(tmp_path, "interaction")


# --------------------------------------------------------------------------------------------
# cleanup


def test_clean_partial_removes_an_interrupted_run(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "interaction.parquet").write_bytes(b"partial")
    (folder / ".manifest.json.tmp-9-ffff").write_text("{")
    removed = clean_partial(folder)
    assert {p.name for p in removed} == {"interaction.parquet", ".manifest.json.tmp-9-ffff", "run"}
    assert not folder.exists()


def test_clean_partial_keeps_complete_runs_and_foreign_files(tmp_path):
    folder = write_run(tmp_path / "run", sample_tables(), {})
    (folder / ".interaction.parquet.tmp-1-abcd").write_bytes(b"x")
    assert [p.name for p in clean_partial(folder)] == [".interaction.parquet.tmp-1-abcd"]
    load_run(folder)

    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    (other / "neurons.parquet").write_bytes(b"partial")
    assert [p.name for p in clean_partial(other)] == ["neurons.parquet"]
    assert (other / "notes.txt").exists()
    assert clean_partial(tmp_path / "missing") == []


# --------------------------------------------------------------------------------------------
# BatchWriter: a sweep batch's runs staged unsynced, synced once, swapped in together


def _run_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.suffix == ".parquet"}


def test_a_batch_is_invisible_until_committed_and_then_reads_as_write_run_writes(tmp_path):
    single = write_run(tmp_path / "single", sample_tables(), {"seed": 1})
    syncs = []
    real = store_write.sync_filesystems
    with store_write.BatchWriter() as writer:
        writer.write_run(tmp_path / "runs" / "a", sample_tables(), {"seed": 1})
        writer.write_run(tmp_path / "runs" / "b", sample_tables(), {"seed": 2})
        # staged as hidden siblings: no run folder is visible yet
        assert [p.name for p in (tmp_path / "runs").iterdir() if not p.name.startswith(".")] == []
        assert len(list((tmp_path / "runs").iterdir())) == 2
        assert find_runs(tmp_path / "runs") == []
        store_write.sync_filesystems = lambda folders: syncs.append(len(folders)) or real(folders)
        try:
            assert writer.commit() == {}
        finally:
            store_write.sync_filesystems = real
    assert syncs == [2]  # one sync for the batch
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["a", "b"]
    a = load_run(tmp_path / "runs" / "a")  # verifies every checksum
    assert a.manifest["seed"] == 1 and load_run(tmp_path / "runs" / "b").manifest["seed"] == 2
    assert _run_files(tmp_path / "runs" / "a") == _run_files(single)
    for name, table in load_run(single).tables.items():
        pd.testing.assert_frame_equal(a.tables[name], table)


def test_a_batch_left_by_an_error_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), store_write.BatchWriter() as writer:
        writer.write_run(tmp_path / "runs" / "a", sample_tables(), {})
        raise RuntimeError("the batch failed")
    assert list((tmp_path / "runs").iterdir()) == []


def test_a_failed_sync_fails_every_run_and_a_failed_swap_only_its_own(tmp_path, monkeypatch):
    writer = store_write.BatchWriter()
    writer.write_run(tmp_path / "runs" / "a", sample_tables(), {})

    def no_sync(folders):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(store_write, "sync_filesystems", no_sync)
    failed = writer.commit()
    assert list(failed) == [tmp_path / "runs" / "a"] and isinstance(
        failed[tmp_path / "runs" / "a"], OSError
    )
    assert list((tmp_path / "runs").iterdir()) == []
    monkeypatch.undo()

    real_rename = store_write._rename

    def rename(source, target):
        if target.name == "b":
            raise OSError(28, "No space left on device")
        real_rename(source, target)

    monkeypatch.setattr(store_write, "_rename", rename)
    for name in "abc":
        writer.write_run(tmp_path / "runs" / name, sample_tables(), {})
    failed = writer.commit()
    assert list(failed) == [tmp_path / "runs" / "b"]
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["a", "c"]


def test_a_batch_refuses_what_write_run_refuses(tmp_path):
    done = write_run(tmp_path / "done", sample_tables(), {})
    with store_write.BatchWriter() as writer:
        with pytest.raises(ResultsError, match="already holds a complete run"):
            writer.write_run(done, sample_tables(), {})
        writer.write_run(tmp_path / "new", sample_tables(), {})
        with pytest.raises(ValueError, match="staged twice"):
            writer.write_run(tmp_path / "new", sample_tables(), {})
    assert not (tmp_path / "new").exists()  # left uncommitted: discarded
