"""A DataFrame as a Parquet file, as ``DataFrame.to_parquet`` writes it, without its fixed costs.

``table.to_parquet(handle, engine="pyarrow")`` converts the frame with
``pyarrow.Table.from_pandas`` and writes it with ``pyarrow.parquet.write_table``. The
conversion is mostly fixed cost: it builds the schema's ``pandas`` metadata (which
:func:`pandas.read_parquet` uses to give the frame back: dtypes, categoricals, the range
index) by inspecting every column anew, and for frames of more than 100 rows per column it
starts a thread pool. For a run's tables that is 1-4 ms each, more than writing most of them.

:func:`to_arrow` gives the same arrow table (the same arrays, the same schema and metadata,
byte for byte): each column is converted with the call ``from_pandas`` makes
(``pa.array(column, from_pandas=True)``, the same array as ``pa.array(column)`` for columns
without NaN), and the schema, which depends only on the frame's
shape and dtypes, is taken from ``from_pandas`` once per shape and reused. Frames it does not
know how to key (a non-range index, non-text column names, other dtypes, ``attrs``) go through
``from_pandas`` as before.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

#: schemas kept (one per table shape a process writes: a sweep writes the same few over and over)
_SCHEMAS_KEPT = 64
_schemas: dict[tuple, Any] = {}


def write_parquet(
    table: pd.DataFrame, handle, *, required_where_complete: bool = False, **options: Any
) -> None:
    """Write ``table`` to the open binary file ``handle`` as ``to_parquet(engine="pyarrow")``.

    ``options`` are passed to :func:`pyarrow.parquet.write_table` (compression, ...). The
    file is made in memory and handed to ``handle`` in one write: pyarrow writing through a
    Python file object calls back into Python for every page and header, which cost a run
    2-5 ms more than the one copy (the file is a fraction of the table's size in memory).

    With ``required_where_complete`` the columns that hold no missing value are declared
    required (:func:`require_complete`); the file then differs from ``to_parquet``'s, and
    reads back as the same frame.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not isinstance(table, pd.DataFrame):
        raise ValueError("to_parquet only supports IO with DataFrames")
    arrow = to_arrow(table)
    if required_where_complete:
        arrow = require_complete(arrow)
    sink = pa.BufferOutputStream()
    pq.write_table(arrow, sink, **options)
    handle.write(sink.getvalue())


def require_complete(arrow):
    """Return the arrow table ``arrow`` with each column that holds no null declared required.

    ``from_pandas`` declares every column nullable, so Parquet stores a definition level
    (present or missing) for every value, even in a column that cannot miss one, such as a
    run's time step or neuron index. A required column skips them: a run's tables are written
    in about a fifth less time, and they read back as the same frame. Whether a column is
    required follows from its values, so two runs' files of one table can differ in it
    (a float column with a NaN in one run); pandas and pyarrow datasets read them together.
    """
    import pyarrow as pa

    fields = [
        field.with_nullable(column.null_count > 0)
        for field, column in zip(arrow.schema, arrow.columns, strict=True)
    ]
    if all(field.nullable for field in fields):
        return arrow
    schema = pa.schema(fields, metadata=arrow.schema.metadata)
    return pa.Table.from_arrays(arrow.columns, schema=schema)


def to_arrow(table: pd.DataFrame):
    """Return ``pyarrow.Table.from_pandas(table)`` (as ``to_parquet`` calls it), schema reused.

    The result equals ``from_pandas``'s, metadata included (tested): the columns are converted
    as ``from_pandas`` converts them (:func:`_columns`), and the schema is ``from_pandas``'s own
    for the first frame of the same key.
    """
    import pyarrow as pa

    converted = _columns(table) if _plain(table) else None
    if converted is None:
        return _from_pandas(table)
    described, arrays = converted
    index = table.index
    key = (
        tuple(table.columns.tolist()),  # tolist: iterating a text Index costs ~1.5 µs a name
        str(table.columns.dtype),
        described,
        (index.start, index.stop, index.step),
    )
    schema = _schemas.get(key)
    # the key implies the arrow types; checked, as from_arrays would cast silently
    if schema is None or [array.type for array in arrays] != schema.types:
        arrow = _from_pandas(table)
        if len(_schemas) >= _SCHEMAS_KEPT:
            _schemas.clear()  # a bound, not a policy: processes write a few shapes
        _schemas[key] = arrow.schema  # single dict operations: safe across threads
        return arrow
    return pa.Table.from_arrays(arrays, schema=schema)


def _from_pandas(table: pd.DataFrame):
    """``from_pandas`` as ``DataFrame.to_parquet`` calls it, in this thread (no thread pool)."""
    import json

    import pyarrow as pa

    arrow = pa.Table.from_pandas(table, nthreads=1)
    if table.attrs:  # as pandas adds them
        metadata = {**arrow.schema.metadata, "PANDAS_ATTRS": json.dumps(table.attrs)}
        arrow = arrow.replace_schema_metadata(metadata)
    return arrow


def _plain(table: pd.DataFrame) -> bool:
    """Return whether ``table`` is plain: a default-named range index, text column names.

    (Unique names in a flat, unnamed columns index; no ``attrs``; at least one column.)
    """
    columns = table.columns
    return (
        type(table.index) is pd.RangeIndex
        and table.index.name is None
        and type(columns) is pd.Index
        and columns.name is None
        and len(columns) > 0
        and not table.attrs
        and columns.is_unique
        and all(type(name) is str for name in columns.tolist())
    )


def _columns(table: pd.DataFrame) -> tuple[tuple, list] | None:
    """Return what the schema depends on per column, and the arrow arrays; None for others.

    The schema's ``pandas`` metadata holds, besides the column names, the columns index's
    dtype and the range index (in the key of :func:`to_arrow`), each column's dtype: for
    categoricals the number of categories and whether they are ordered (the codes' dtype
    follows from the number, the categories' from their dtype). Only numeric, boolean and
    categorical columns are converted here (None for others): for those the list is complete.

    Each column is converted as ``pa.array(column, from_pandas=True)`` converts it (numbers
    from their numpy array; categoricals from their codes, missing where -1, and their
    categories), without the ~25 µs per column it takes to inspect a Series.
    """
    import pyarrow as pa

    described, arrays = [], []
    for column in _column_arrays(table):
        dtype = column.dtype
        if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
            described.append(dtype.str)
            values = np.asarray(column)
            # from_pandas makes NaN null, scanning at ~5 ns a value (2.6 ms for a run's
            # mirror_rates); numpy finds whether there is one 10-20 times faster
            nan = dtype.kind == "f" and bool(np.isnan(values).any())
            arrays.append(pa.array(values, from_pandas=nan, safe=True))
        elif isinstance(dtype, pd.CategoricalDtype):
            categories = dtype.categories
            described.append((len(categories), dtype.ordered, repr(categories.dtype)))
            codes = column.codes
            try:
                dictionary = pa.array(categories, from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, TypeError):
                return None  # from_pandas raises its own error, naming the column
            indices = pa.array(codes, mask=codes == -1)
            arrays.append(
                pa.DictionaryArray.from_arrays(
                    indices, dictionary, ordered=dtype.ordered, safe=True
                )
            )
        else:
            return None
    return tuple(described), arrays


def _column_arrays(table: pd.DataFrame):
    """Each column's values: a numpy array, or a pandas array (a ``Categorical``, ...).

    pandas' own ``DataFrame._iter_column_arrays`` gives them without building a Series per
    column (about 8 µs each: 0.1 ms for a table of 15 columns); where a pandas version lacks
    it, each column's Series gives its ``array`` (the same values).
    """
    iterate = getattr(table, "_iter_column_arrays", None)
    if iterate is not None:
        return iterate()
    return (
        column.to_numpy() if isinstance(column.dtype, np.dtype) else column.array
        for _, column in table.items()
    )
