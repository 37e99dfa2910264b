"""dyad.store.parquet writes the file DataFrame.to_parquet writes, byte for byte."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dyad.store import parquet
from dyad.store.parquet import to_arrow, write_parquet


def frames() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(0)
    n = 300
    rate = rng.random(n, dtype=np.float32)
    rate[3] = np.nan  # from_pandas stores NaN as null
    expression = pd.Categorical.from_codes(rng.integers(0, 2, n), ["happy", "sad"])
    return {
        "numbers": pd.DataFrame(
            {
                "t": np.arange(n, dtype=np.int32),
                "big": np.arange(n, dtype=np.int64),
                "small": np.arange(n, dtype=np.uint8),
                "rate": rate,
                "drive": rate.astype(np.float64),
                "congruent": rng.random(n) < 0.5,
            }
        ),
        "complete floats": pd.DataFrame(
            {"rate": np.linspace(0, 1, n, dtype=np.float32), "d": np.linspace(-1, 1, n)}
        ),
        "categories": pd.DataFrame(
            {
                "expression": expression,
                "ordered": pd.Categorical(
                    np.asarray(expression), categories=["sad", "happy"], ordered=True
                ),
                "objects": pd.Categorical(
                    np.asarray(expression), categories=pd.Index(["happy", "sad"], dtype=object)
                ),
                "missing": pd.Categorical.from_codes(
                    np.where(np.arange(n) % 7 == 0, -1, 0), ["mirror", "other"]
                ),
                "many": pd.Categorical.from_codes(
                    np.arange(n) % 200, [f"c{i}" for i in range(200)]
                ),
                "neuron": np.arange(n, dtype=np.int32),
            }
        ),
        "empty": pd.DataFrame(
            {"t": np.arange(0, dtype=np.int32), "x": pd.Categorical.from_codes([], ["a"])}
        ),
        "shifted index": pd.DataFrame({"t": np.arange(4)}, index=pd.RangeIndex(2, 10, 2)),
        "other index": pd.DataFrame({"t": np.arange(3)}, index=[5, 1, 2]),
        "named index": pd.DataFrame({"t": np.arange(3)}, index=pd.RangeIndex(3, name="row")),
        "text": pd.DataFrame({"name": ["a", "b", None], "t": [1, 2, 3]}),
        "objects": pd.DataFrame({"count": np.array([1, 2, 3], dtype=object)}),
        "no columns": pd.DataFrame(index=pd.RangeIndex(4)),
        "number names": pd.DataFrame({0: [1.0], 1: [2.0]}),
    }


@pytest.mark.parametrize("name", list(frames()))
def test_to_arrow_is_from_pandas_metadata_included(name):
    parquet._schemas.clear()
    table = frames()[name]
    expected = pa.Table.from_pandas(table)
    for _ in range(2):  # the first frame of its shape, then with the schema reused
        arrow = to_arrow(table)
        assert arrow.equals(expected, check_metadata=True)
        assert arrow.schema.metadata == expected.schema.metadata


@pytest.mark.parametrize("name", list(frames()))
def test_without_pandas_column_arrays_each_series_gives_the_same_table(name, monkeypatch):
    """``_iter_column_arrays`` is pandas' own helper; a pandas without it takes each Series."""
    parquet._schemas.clear()
    table = frames()[name]
    expected = pa.Table.from_pandas(table)
    monkeypatch.delattr(pd.DataFrame, "_iter_column_arrays")
    assert not hasattr(table, "_iter_column_arrays")
    for _ in range(2):
        assert to_arrow(table).equals(expected, check_metadata=True)


@pytest.mark.parametrize("name", list(frames()))
def test_the_file_is_to_parquets_byte_for_byte(name):
    table = frames()[name]
    options = {"compression": "zstd", "use_dictionary": False}
    for _ in range(2):
        ours, theirs = io.BytesIO(), io.BytesIO()
        write_parquet(table, ours, **options)
        table.to_parquet(theirs, engine="pyarrow", **options)
        assert ours.getvalue() == theirs.getvalue()


def test_a_schema_is_not_reused_for_another_shape():
    parquet._schemas.clear()
    first = frames()["categories"]
    to_arrow(first)
    longer = pd.concat([first, first], ignore_index=True)
    more = first.assign(expression=pd.Categorical(first["expression"], ["happy", "sad", "x"]))
    renamed = first.rename(columns={"neuron": "cell"})
    wider = first.assign(neuron=first["neuron"].astype(np.int64))
    for table in (longer, more, renamed, wider):
        assert to_arrow(table).equals(pa.Table.from_pandas(table), check_metadata=True)


def test_attrs_are_kept_as_pandas_keeps_them():
    table = pd.DataFrame({"t": np.arange(3)})
    table.attrs = {"note": "kept"}
    ours, theirs = io.BytesIO(), io.BytesIO()
    write_parquet(table, ours)
    table.to_parquet(theirs, engine="pyarrow")
    assert ours.getvalue() == theirs.getvalue()
    assert pd.read_parquet(io.BytesIO(ours.getvalue())).attrs == {"note": "kept"}


def test_only_frames_are_written():
    with pytest.raises(ValueError, match="only supports IO with DataFrames"):
        write_parquet(pd.Series([1, 2]), io.BytesIO())


def test_arrays_of_another_type_than_the_schemas_are_not_cast(monkeypatch):
    monkeypatch.setattr(parquet, "_schemas", {})
    table = pd.DataFrame({"t": np.arange(3, dtype=np.int32)})
    to_arrow(table)
    (key,) = parquet._schemas
    parquet._schemas[key] = pa.schema([("t", pa.int8())])
    assert to_arrow(table).equals(pa.Table.from_pandas(table), check_metadata=True)
    assert parquet._schemas[key].types == [pa.int32()]  # the right schema replaced it


@pytest.mark.parametrize("categories", [[1, "a"], [b"a", "b"], [1.5, 2]])
def test_odd_categories_convert_or_fail_as_from_pandas(categories):
    table = pd.DataFrame({"x": pd.Categorical(categories)})
    for _ in range(2):
        try:
            expected = pa.Table.from_pandas(table)
        except pa.ArrowException as error:
            with pytest.raises(type(error)) as ours:
                to_arrow(table)
            assert str(ours.value) == str(error)
        else:
            assert to_arrow(table).equals(expected, check_metadata=True)


@pytest.mark.parametrize("name", list(frames()))
def test_complete_columns_are_required_and_the_frame_reads_back_the_same(name):
    table = frames()[name]
    ours, theirs = io.BytesIO(), io.BytesIO()
    write_parquet(table, ours, required_where_complete=True, write_statistics=False)
    table.to_parquet(theirs, engine="pyarrow")
    back = pd.read_parquet(io.BytesIO(ours.getvalue()))
    pd.testing.assert_frame_equal(back, pd.read_parquet(io.BytesIO(theirs.getvalue())))
    schema = pq.read_schema(io.BytesIO(ours.getvalue()))
    for field in schema:
        if field.name in table.columns:  # not the stored index
            assert field.nullable == bool(table[field.name].isna().any()), field.name


def test_required_columns_of_two_runs_read_together_where_one_misses_values(tmp_path):
    complete = pd.DataFrame({"t": np.arange(3, dtype=np.int32), "d": [0.5, 1.0, 1.5]})
    missing = complete.assign(d=[0.5, np.nan, 1.5])
    for name, table in [("a", complete), ("b", missing)]:
        with open(tmp_path / f"{name}.parquet", "wb") as handle:
            write_parquet(table, handle, required_where_complete=True)
    assert pq.read_schema(tmp_path / "a.parquet").field("d").nullable is False
    both = pd.read_parquet(tmp_path)
    assert both["d"].isna().tolist() == [False, False, False, False, True, False]
