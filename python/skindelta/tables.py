"""A run's tables (OUT/*.csv) as plain records, and as pandas DataFrames when pandas is present.

Cells become numbers where a whole column is numeric (empty cells None), except the identifier
columns (patient, session, view), which stay strings ("007" is not 7).
"""
import csv
import json
import os

ID_COLUMNS = {"patient", "session", "view", "region", "metric", "unit", "path"}


def _number(s):
    try:
        v = float(s)
    except ValueError:
        return None
    return int(v) if v.is_integer() and "." not in s and "e" not in s.lower() and abs(v) < 2**53 else v


def read_table(path):
    """One CSV as a list of dicts (header order kept in each dict)."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    if not rows:
        return []
    header, body = rows[0], rows[1:]
    numeric = []
    for j, name in enumerate(header):
        if name in ID_COLUMNS:
            numeric.append(False)
            continue
        vals = [r[j] for r in body if j < len(r) and r[j] != ""]
        numeric.append(bool(vals) and all(_number(v) is not None for v in vals))
    out = []
    for r in body:
        rec = {}
        for j, name in enumerate(header):
            s = r[j] if j < len(r) else ""
            rec[name] = None if s == "" else (_number(s) if numeric[j] else s)
        out.append(rec)
    return out


class Run:
    """A run's output folder: tables {name: records} for every OUT/*.csv (measurements, changes,
    cohort, trends, uncertainty, alignment, errors, ...), info (run.json) and, after run(), the
    summary and the catalog issues."""

    def __init__(self, out):
        self.out = os.fspath(out)
        self.tables = {}
        for f in sorted(os.listdir(self.out)):
            if f.endswith(".csv") and os.path.isfile(os.path.join(self.out, f)):
                self.tables[f[:-4]] = read_table(os.path.join(self.out, f))
        self.info = None
        js = os.path.join(self.out, "run.json")
        if os.path.isfile(js):
            with open(js, encoding="utf-8") as fh:
                self.info = json.load(fh)
        self.summary = None
        self.issues = []

    def __getitem__(self, name):
        return self.tables[name]

    def __repr__(self):
        return "<skindelta.Run %s: %s>" % (self.out, ", ".join("%s (%d)" % (k, len(v)) for k, v in self.tables.items()))

    def frame(self, name):
        """Table `name` as a pandas DataFrame (ImportError when pandas is not installed)."""
        try:
            import pandas as pd
        except ImportError as e:
            raise ImportError("skindelta: Run.frame needs pandas (Debian: apt-get install python3-pandas); "
                              "the tables are in Run.tables as plain records") from e
        rows = self.tables[name]
        path = os.path.join(self.out, name + ".csv")
        with open(path, newline="", encoding="utf-8-sig") as f:
            header = next(csv.reader(f), [])
        return pd.DataFrame.from_records(rows, columns=header)

    @property
    def frames(self):
        """Every table as a pandas DataFrame: {name: DataFrame}."""
        return {k: self.frame(k) for k in self.tables}


def load_run(out):
    """The tables of a finished run (or merge) in folder out."""
    if not os.path.isdir(out):
        raise FileNotFoundError("%s: not a run's output folder" % os.fspath(out))
    return Run(out)
