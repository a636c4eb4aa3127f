"""Sweep files: one row a case, written as the cases finish, read back for ``--resume`` and reports.

Two formats, chosen by the file's suffix:

* ``.csv`` — a header line, then one line a row, appended and flushed (``os.fsync``) as each case
  finishes. A run killed in the middle of a line leaves a partial last line; opening the file
  again for ``--resume`` cuts it (that case runs again).
* ``.parquet`` (needs ``pyarrow``: ``pip install "nrmt[parquet]"``) — a Parquet file is only
  readable once it is complete, so the whole file is written again after each finished case, to a
  temporary file renamed over the old one: at every moment it holds every finished row.

Cells: strings as they are (the decimal strings of the JSON results keep every digit), integers
and floats as Python prints them (``repr``), ``true``/``false``, lists and tables as compact JSON,
nothing (an empty cell; null in Parquet) for a missing value. :func:`read_rows` gives every cell
back as that text, whatever the format.

>>> encode_cell([0.5, 2.0]), encode_cell(None), encode_cell("0.0123"), encode_cell(True)
('[0.5,2.0]', '', '0.0123', 'true')
"""

import csv
import io
import json
import os

__all__ = ["encode_cell", "open_writer", "read_rows", "CsvWriter", "ParquetWriter", "FORMATS"]

#: file suffix -> writer class (filled below)
FORMATS = {}


def encode_cell(value):
    """The text of one cell (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _suffix(path):
    suffix = os.path.splitext(str(path))[1].lower()
    if suffix not in FORMATS:
        raise ValueError(f"{path}: unknown file type {suffix or '(none)'!r}; use .csv or .parquet")
    return suffix


def open_writer(path, resume=False):
    """A writer for ``path`` (``.csv`` or ``.parquet``).

    Parameters
    ----------
    path : str
    resume : bool
        Keep the rows already in ``path`` (their case ids are in ``writer.done``); without it an
        existing non-empty file is an error, so that no run overwrites finished results.

    Raises
    ------
    ValueError
        Unknown suffix; ``path`` exists and ``resume`` is false; ``path`` is not a sweep file.
    """
    cls = FORMATS[_suffix(path)]
    if not resume and os.path.exists(path) and os.path.getsize(path) > 0:
        raise ValueError(f"{path} exists: give --resume to add the missing cases to it, "
                         "or choose another --out")
    return cls(str(path), resume)


def read_rows(path):
    """The rows of a sweep file as dicts ``column -> cell text``, in file order."""
    cls = FORMATS[_suffix(path)]
    if not os.path.exists(path):
        raise ValueError(f"{path}: no such file")
    return cls.read(str(path))


class _Writer:
    """Common part: the set ``done`` of case ids written, the column list, ``write``/``close``."""

    def __init__(self, path, resume):
        self.path = path
        self.columns = None
        self.done = set()
        self.rows_before = 0

    def _check_columns(self, row):
        if self.columns is None:
            self.columns = list(row)
        elif list(row) != self.columns:
            missing = [c for c in self.columns if c not in row]
            extra = [c for c in row if c not in self.columns]
            raise ValueError(f"{self.path}: a row with other columns than the file's "
                             f"(missing {missing}, extra {extra}): write to another --out")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class CsvWriter(_Writer):
    """Append rows to a CSV file, each flushed to disk when written."""

    def __init__(self, path, resume):
        super().__init__(path, resume)
        if resume and os.path.exists(path) and os.path.getsize(path) > 0:
            self._cut_partial_line()
            rows = self.read(path)
            with open(path, newline="", encoding="utf-8") as fh:
                header = next(csv.reader(fh), None)
            self.columns = header
            self.done = {r["case"] for r in rows}
            self.rows_before = len(rows)
            self._fh = open(path, "a", newline="", encoding="utf-8")
            self._header_written = bool(header)
        else:
            self._fh = open(path, "w", newline="", encoding="utf-8")
            self._header_written = False

    def _cut_partial_line(self):
        with open(self.path, "rb+") as fh:
            data = fh.read()
            if data.endswith(b"\n"):
                return
            fh.truncate(data.rfind(b"\n") + 1)

    @staticmethod
    def read(path):
        with open(path, newline="", encoding="utf-8") as fh:
            text = fh.read()
        if not text.endswith("\n"):  # a line cut by a kill: not a finished row
            text = text[:text.rfind("\n") + 1]
        reader = csv.DictReader(io.StringIO(text))
        if reader.fieldnames is None:
            return []
        if "case" not in reader.fieldnames:
            raise ValueError(f"{path} is not a sweep file (no 'case' column)")
        return list(reader)

    def write(self, row):
        """Append one row (a dict in column order) and flush it to disk."""
        self._check_columns(row)
        writer = csv.writer(self._fh, lineterminator="\n")
        if not self._header_written:
            writer.writerow(self.columns)
            self._header_written = True
        writer.writerow([encode_cell(row[c]) for c in self.columns])
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self.done.add(row["case"])

    def close(self):
        self._fh.close()


def _pyarrow():
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise ValueError("writing or reading .parquet needs pyarrow: "
                         "pip install \"nrmt[parquet]\" (or use a .csv file)") from None
    return pyarrow


class ParquetWriter(_Writer):
    """Keep the rows in memory and write the whole Parquet file again (atomically) after each."""

    def __init__(self, path, resume):
        super().__init__(path, resume)
        self._pa = _pyarrow()
        self._rows = []
        if resume and os.path.exists(path) and os.path.getsize(path) > 0:
            table = self._pa.parquet.read_table(path)
            if "case" not in table.column_names:
                raise ValueError(f"{path} is not a sweep file (no 'case' column)")
            self.columns = table.column_names
            self._rows = table.to_pylist()
            self.done = {r["case"] for r in self._rows}
            self.rows_before = len(self._rows)

    @staticmethod
    def read(path):
        pa = _pyarrow()
        table = pa.parquet.read_table(path)
        if "case" not in table.column_names:
            raise ValueError(f"{path} is not a sweep file (no 'case' column)")
        return [{k: encode_cell(v) for k, v in r.items()} for r in table.to_pylist()]

    def _column(self, values):
        pa = self._pa
        kinds = {type(v) for v in values if v is not None}
        if kinds == {int}:
            return pa.array(values, type=pa.int64())
        if kinds == {float}:
            return pa.array(values, type=pa.float64())
        if kinds == {bool}:
            return pa.array(values, type=pa.bool_())
        return pa.array([None if v is None else encode_cell(v) for v in values], type=pa.string())

    def write(self, row):
        """Add one row and write the file again (temporary file, then an atomic rename)."""
        self._check_columns(row)
        self._rows.append({c: row[c] for c in self.columns})
        table = self._pa.table({c: self._column([r[c] for r in self._rows]) for c in self.columns})
        tmp = f"{self.path}.tmp-{os.getpid()}"
        self._pa.parquet.write_table(table, tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        self.done.add(row["case"])

    def close(self):
        pass


FORMATS.update({".csv": CsvWriter, ".parquet": ParquetWriter})
