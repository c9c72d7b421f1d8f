"""Checks of the installed Python package against the CLI's tables on the same photos, run by
tests/integration/python.sh in a venv: prints "ok NAME" / "not ok NAME: why" per check and the
largest relative differences. Arguments: WORK (the folder python.sh prepared: patch/ and face/
courses with the CLI's runs cli_patch/ and cli_face/)."""
import csv
import math
import os
import sys

import numpy as np

import skindelta

WORK = sys.argv[1]
REL = 1e-6          # measurements.csv prints %.9g
fails = 0


def check(name, cond, why=""):
    global fails
    if cond:
        print("ok " + name)
    else:
        fails += 1
        print("not ok " + name + (": " + why if why else ""))


def cli_values(out):
    """{(patient, session): {region: {metric: value}}} from a run's measurements.csv."""
    vals = {}
    with open(os.path.join(out, "measurements.csv"), newline="", encoding="utf-8-sig") as f:
        for r in csv.DictReader(f):
            v = float(r["value"]) if r["value"] else math.nan
            vals.setdefault((r["patient"], r["session"]), {}).setdefault(r["region"], {})[r["metric"]] = v
    return vals


def reldiff(a, b):
    if math.isnan(a) and math.isnan(b):
        return 0.0
    if math.isnan(a) or math.isnan(b):
        return math.inf
    return 0.0 if a == b else abs(a - b) / max(abs(a), abs(b))


def same(a, b):
    """Two measurements equal value for value (NaN equal to NaN)."""
    return a.keys() == b.keys() and all(a[r].keys() == b[r].keys() and
                                        all(reldiff(a[r][k], b[r][k]) == 0 for k in a[r]) for r in a)


def compare_tables(ours, cli):
    """Largest relative difference over cli's cells, and cells ours lacks."""
    worst, missing, n = 0.0, 0, 0
    for region, ms in cli.items():
        for metric, v in ms.items():
            o = ours.get(region, {}).get(metric)
            if o is None:
                missing += 1
                continue
            worst = max(worst, reldiff(o, v))
            n += 1
    return worst, missing, n


def course(kind, opts):
    root = os.path.join(WORK, kind)
    cli = cli_values(os.path.join(WORK, "cli_" + kind))
    patients = sorted(p for p in os.listdir(root) if os.path.isdir(os.path.join(root, p)))
    worst_m = worst_c = 0.0
    cells = missing = 0
    for p in patients:
        s1 = os.path.join(root, p, "s1", "front.jpg")
        s2 = os.path.join(root, p, "s2", "front.jpg")
        m = skindelta.measure(s1, **opts)
        w, miss, n = compare_tables(m, cli[(p, "s1")])
        worst_m, missing, cells = max(worst_m, w), missing + miss, cells + n
        c = skindelta.compare(s1, s2, **opts)
        after = {r: {k: v["after"] for k, v in ms.items()} for r, ms in c.items()}
        w, miss, n = compare_tables(after, cli[(p, "s2")])
        worst_c, missing, cells = max(worst_c, w), missing + miss, cells + n
    print("  %s: %d patients, %d values: largest relative difference to the CLI: baselines %.3g, "
          "follow-ups %.3g" % (kind, len(patients), cells, worst_m, worst_c))
    check("%s: every CLI value has a Python value (%d missing)" % (kind, missing), missing == 0 and cells > 0)
    check("%s: measure() equals the CLI's baselines within %g (%.3g)" % (kind, REL, worst_m), worst_m <= REL)
    check("%s: compare() equals the CLI's follow-ups within %g (%.3g)" % (kind, REL, worst_c), worst_c <= REL)
    return patients


# ---- the library and the metric table
check("library version is the build's (%s)" % skindelta.version(), skindelta.version().startswith("0."))
ids = [m["id"] for m in skindelta.metrics()]
check("metrics() lists the 12 metrics, texture_roughness first", len(ids) == 12 and ids[0] == "texture_roughness")

# ---- patch course, roi whole: values against the CLI's run
popts = {"roi": "whole", "px_per_mm": 15}
patients = course("patch", popts)

# ---- arrays in: the same pixels give the same values
s1 = os.path.join(WORK, "patch", patients[0], "s1", "front.jpg")
img = skindelta.load_image(s1)
check("load_image gives HxWx3 float32 in 0..1", img.ndim == 3 and img.shape[2] == 3 and img.dtype == np.float32
      and 0 <= img.min() and img.max() <= 1)
by_path = skindelta.measure(s1, masks=True, **popts)
by_array = skindelta.measure(img, **popts)
check("measure(float array) == measure(path)", same(by_array, by_path))
u8 = np.clip(np.rint(img * 255), 0, 255).astype(np.uint8)
m8 = skindelta.measure(u8, **popts)
mf = skindelta.measure(u8.astype(np.float32) * (np.float32(1) / np.float32(255)), **popts)
check("measure(uint8 array) == measure(the same values as float)", same(m8, mf))
check("masks on request: region, skin and valid masks of the canonical frame",
      by_path.masks is not None and by_path.masks["whole"].dtype == bool and
      by_path.masks["whole"].shape == by_path.skin.shape == by_path.image.shape[:2] and
      0 < by_path.masks["whole"].sum() == by_path.area["whole"])
check("no masks unless asked", by_array.masks is None and by_array.image is None)
a = skindelta.align(s1, os.path.join(WORK, "patch", patients[0], "s2", "front.jpg"), **popts)
check("align: both canonical images, same size, qc status %s, ecc %.3f" % (a["qc"]["status"], a["qc"]["ecc"]),
      a["before"].shape == a["after"].shape and a["qc"]["status"] in ("ok", "warn") and a["qc"]["ecc"] > 0.5)

# ---- face course: 13 regions, face stage, registration by landmarks
fpatients = course("face", {})
f1 = skindelta.measure(os.path.join(WORK, "face", fpatients[0], "s1", "front.jpg"))
check("face: 13 regions, landmarks and a face score", len(f1) == 13 and f1.landmarks is not None
      and f1.landmarks.shape == (68, 2) and f1.face_score > 0.5)

# ---- the batch job through the library equals the CLI's, byte for byte
out = os.path.join(WORK, "py_run")
r = skindelta.run(os.path.join(WORK, "patch"), out, roi="whole", px_per_mm=15, bootstrap=0, images=0, report=0, jobs=2)
check("run(): summary counts every image (%s)" % r.summary, r.summary["images"] == 2 * len(patients)
      and r.summary["images_failed"] == 0)
for t in ("measurements", "changes", "cohort", "alignment"):
    with open(os.path.join(out, t + ".csv"), "rb") as f1h, open(os.path.join(WORK, "cli_patch", t + ".csv"), "rb") as f2h:
        check("run(): %s.csv equals the CLI's byte for byte" % t, f1h.read() == f2h.read())

# ---- tables as records (and DataFrames when pandas is there)
t = skindelta.load_run(os.path.join(WORK, "cli_patch"))
rows = t.tables["measurements"]
with open(os.path.join(WORK, "cli_patch", "measurements.csv")) as fh:
    nlines = sum(1 for _ in fh) - 1
check("load_run: one record per measurements.csv line (%d)" % len(rows), len(rows) == nlines > 0)
check("records: numbers as numbers, ids as strings", isinstance(rows[0]["value"], float)
      and isinstance(rows[0]["patient"], str) and isinstance(rows[0]["session_index"], int))
try:
    import pandas  # noqa: F401
    have_pandas = True
except ImportError:
    have_pandas = False
if have_pandas:
    df = t.frame("changes")
    check("frame('changes') is a DataFrame of every row", len(df) == len(t.tables["changes"]) > 0)
else:
    try:
        t.frame("changes")
        check("frame() without pandas raises ImportError", False)
    except ImportError as e:
        check("frame() without pandas raises ImportError naming pandas", "pandas" in str(e))

# ---- errors name what went wrong
missing = os.path.join(WORK, "no-such-photo.jpg")
try:
    skindelta.measure(missing, **popts)
    check("a missing photo raises SkindeltaError", False)
except skindelta.SkindeltaError as e:
    check("a missing photo raises SkindeltaError naming it (%s)" % e, missing in str(e))
try:
    skindelta.measure(s1, roi="sideways")
    check("a bad option raises SkindeltaError", False)
except skindelta.SkindeltaError as e:
    check("a bad option raises SkindeltaError saying why (%s)" % e, "roi takes face or whole" in str(e))
try:
    skindelta.measure(np.zeros((8, 8)), **popts)
    check("a 2-D array raises ValueError", False)
except ValueError as e:
    check("a 2-D array raises ValueError (%s)" % e, "HxWx3" in str(e))

print("python: %d failed" % fails)
sys.exit(1 if fails else 0)
