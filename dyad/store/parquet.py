"""A DataFrame as a Parquet file, as ``DataFrame.to_parquet`` writes it, without its fixed costs.

``table.to_parquet(handle, engine="pyarrow")`` converts the frame with
``pyarrow.Table.from_pandas`` and writes it with ``pyarrow.parquet.write_table``. The
conversion is mostly fixed cost: it builds the schema's ``pandas`` metadata (which
:func:`pandas.read_parquet` uses to give the frame back: dtypes, categoricals, the range
index) by inspecting every column anew, and for frames of more than 100 rows per column it
starts a thread pool. For a run's tables that is 1-4 ms each, more than writing most of them.

:func:`to_arrow` gives the same arrow table (the same arrays, the same schema and metadata,
byte for byte): each column is converted with the call ``from_pandas`` makes
(``pa.array(column, from_pandas=True)``), and the schema, which depends only on the frame's
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


def write_parquet(table: pd.DataFrame, handle, **options: Any) -> None:
    """Write ``table`` to the open binary file ``handle`` as ``to_parquet(engine="pyarrow")``.

    ``options`` are passed to :func:`pyarrow.parquet.write_table` (compression, ...).
    """
    import pyarrow.parquet as pq

    if not isinstance(table, pd.DataFrame):
        raise ValueError("to_parquet only supports IO with DataFrames")
    pq.write_table(to_arrow(table), handle, **options)


def to_arrow(table: pd.DataFrame):
    """Return ``pyarrow.Table.from_pandas(table)`` (as ``to_parquet`` calls it), schema reused.

    The result equals ``from_pandas``'s, metadata included (tested): the columns are converted
    by the same call, and the schema is ``from_pandas``'s own for the first frame of the same
    :func:`_schema_key`.
    """
    import pyarrow as pa

    key = _schema_key(table)
    schema = None if key is None else _schemas.get(key)
    if schema is None:
        arrow = _from_pandas(table)
        if key is not None:
            if len(_schemas) >= _SCHEMAS_KEPT:
                _schemas.clear()  # a bound, not a policy: processes write a few shapes
            _schemas[key] = arrow.schema  # single dict operations: safe across threads
        return arrow
    try:
        arrays = [pa.array(column, from_pandas=True, safe=True) for _, column in table.items()]
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return _from_pandas(table)  # raises the conversion's own error, naming the column
    # the key implies the arrow types; checked, as from_arrays would cast silently
    if [array.type for array in arrays] != schema.types:
        return _from_pandas(table)
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
        and all(type(name) is str for name in columns)
    )


def _schema_key(table: pd.DataFrame) -> tuple | None:
    """Return what the schema of ``table`` depends on, or None if this module does not key it.

    The schema's ``pandas`` metadata holds the column names and the columns index's dtype, each
    column's dtype (for categoricals: the number of categories and whether they are ordered;
    the codes' dtype follows from the number), the categories' dtype (in the arrow type) and
    the range index's start, stop and step. Only plain frames (:func:`_plain`) of numeric,
    boolean and categorical columns are keyed (None for others): for those this list is
    complete. The arrow types follow from these; :func:`to_arrow` checks them anyway.
    """
    if not _plain(table):
        return None
    columns = []
    for dtype in table.dtypes:
        if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
            columns.append(dtype.str)
        elif isinstance(dtype, pd.CategoricalDtype):
            categories = dtype.categories
            columns.append((len(categories), dtype.ordered, repr(categories.dtype)))
        else:
            return None
    index = table.index
    return (
        tuple(table.columns),
        str(table.columns.dtype),
        tuple(columns),
        (index.start, index.stop, index.step),
    )
