"""skindelta: before/after facial skin photos to measured change scores (libskindelta via ctypes).

    import skindelta
    m = skindelta.measure("photo.jpg")              # {region: {metric: value}}
    c = skindelta.compare("before.jpg", "after.jpg")
    r = skindelta.run("course/", "out/")            # the batch job; r.tables, r.frame(name)
    t = skindelta.load_run("out/")                  # a finished run's tables

Options are the CLI's, as keyword arguments: roi ("face" | "whole"), px_per_mm, iod, motion,
photometry ("none" | "reference"), and for run also jobs, bootstrap, recapture, images, report,
resume, shard ("I/N"), mdc. Values equal the CLI's at the same settings (the `value` column of
measurements.csv). Errors raise SkindeltaError with the library's message (naming the file).
"""
import ctypes
import math
import os

import numpy as np

from ._lib import (SD_FMT_F32, SD_FMT_U8, SD_NLANDMARKS, LOAD_OPTS_BYTES, SdAlignQC, SdCatalog,
                   SdCatalogOpts, SdImage, SdRunSummary, SkindeltaError, lib)
from .tables import Run, load_run, read_table

__all__ = ["measure", "align", "compare", "run", "load_run", "read_table", "load_image", "metrics",
           "version", "library_path", "Measurement", "Comparison", "Run", "SkindeltaError"]
__version__ = "0.1.0"

_ALIGN_STATUS = {0: "ok", 1: "warn", 2: "failed"}


def version():
    """The library's version string."""
    return lib().dll.sd_version().decode()


def library_path():
    """The libskindelta.so in use."""
    return lib().path


def metrics():
    """The metric table: a list of {id, unit, better, primary, what} in the library's order."""
    L = lib()
    out = []
    i = 0
    while True:
        p = L.dll.sd_metric_info(i)
        if not p:
            return out
        m = p.contents
        out.append({"id": m.id.decode(), "unit": m.unit.decode(),
                    "better": "higher" if m.better > 0 else "lower", "primary": bool(m.primary),
                    "what": m.what.decode()})
        i += 1


# ---- options

class _Opts:
    """A heap SdRunOpts set by name (sd_run_opts_set), freed with the object."""

    def __init__(self, opts):
        self.L = lib()
        self.p = self.L.dll.sd_run_opts_new()
        if not self.p:
            raise MemoryError("sd_run_opts_new")
        for k, v in opts.items():
            if v is None:
                continue
            if isinstance(v, bool):
                v = int(v)
            self.L.check(self.L.dll.sd_run_opts_set(ctypes.byref(self.L.ctx), self.p, k.encode(),
                                                     str(v).encode()))

    def __del__(self):
        if getattr(self, "p", None):
            self.L.dll.sd_run_opts_free(self.p)
            self.p = None


def _opts(roi=None, px_per_mm=None, iod=None, motion=None, photometry=None, **more):
    o = {"roi": roi, "px_per_mm": px_per_mm, "iod": iod, "motion": motion, "photometry": photometry}
    o.update(more)
    return _Opts(o)


# ---- images

def _fspath(x):
    return os.fsencode(os.fspath(x))


def load_image(path):
    """A photo as the library loads it (EXIF orientation applied, sRGB): HxWx3 float32 in 0..1."""
    L = lib()
    img = SdImage()
    lo = ctypes.create_string_buffer(LOAD_OPTS_BYTES)
    with L.lock:
        L.dll.sd_load_opts_default(lo)
        L.check(L.dll.sd_image_load(ctypes.byref(L.ctx), _fspath(path), lo, ctypes.byref(img), None), os.fspath(path))
    try:
        return _image_to_array(img)
    finally:
        L.dll.sd_image_free(ctypes.byref(img))


def _image_to_array(img):
    """Copy a planar F32 (or interleaved U8) SdImage into an HxWxC numpy array."""
    h, w, c = img.h, img.w, img.c
    if img.fmt == SD_FMT_F32:
        n = int(img.plane_bytes) * c
        buf = np.ctypeslib.as_array(ctypes.cast(img.data, ctypes.POINTER(ctypes.c_uint8)), shape=(n,))
        planes = buf.view(np.float32).reshape(c, h, int(img.stride) // 4)[:, :, :w]
        return np.ascontiguousarray(planes.transpose(1, 2, 0))
    buf = np.ctypeslib.as_array(img.data, shape=(h * int(img.stride),))
    return buf.reshape(h, int(img.stride))[:, :w * c].reshape(h, w, c).copy()


def _array_to_image(a):
    """An SdImage (owned by the library; free with sd_image_free) holding the HxWx3 array a:
    uint8 as interleaved U8, any float as planar F32 (0..1)."""
    L = lib()
    a = np.asarray(a)
    if a.ndim != 3 or a.shape[2] != 3:
        raise ValueError("an HxWx3 image is required, not an array of shape %s" % (a.shape,))
    h, w = a.shape[:2]
    img = SdImage()
    if a.dtype == np.uint8:
        L.check(L.dll.sd_image_create(ctypes.byref(img), w, h, 3, SD_FMT_U8))
        buf = np.ctypeslib.as_array(img.data, shape=(h * int(img.stride),)).reshape(h, int(img.stride))
        buf[:, :w * 3] = a.reshape(h, w * 3)
    elif np.issubdtype(a.dtype, np.floating):
        L.check(L.dll.sd_image_create(ctypes.byref(img), w, h, 3, SD_FMT_F32))
        n = int(img.plane_bytes) * 3
        buf = np.ctypeslib.as_array(img.data, shape=(n,)).view(np.float32).reshape(3, h, int(img.stride) // 4)
        buf[:, :, :w] = np.transpose(a, (2, 0, 1))
    else:
        raise ValueError("image dtype must be uint8 or float (0..1), not %s" % a.dtype)
    return img


def _mask_to_array(mp):
    m = mp.contents
    buf = np.ctypeslib.as_array(m.data, shape=(m.h * int(m.stride),)).reshape(m.h, int(m.stride))
    return buf[:, :m.w] != 0


# ---- measurements

class Measurement(dict):
    """{region: {metric: value}} (NaN: region too small to measure), with:
    area {region: pixels}, warn {region: bool}, px_per_mm (canonical frame), transform (3x3,
    photo px -> canonical px), landmarks (68x2 canonical px, or None with roi whole), face_score;
    and with masks=True: masks {region: HxW bool}, skin (HxW bool), valid (HxW bool), image
    (HxWx3 float32, the canonical-frame image that was measured)."""
    masks = skin = valid = image = landmarks = None
    face_score = float("nan")


def _read_measurement(L, h, masks):
    out = Measurement()
    ids = [m["id"] for m in metrics()]
    out.area, out.warn = {}, {}
    for r in range(L.dll.sd_measurement_nregions(h)):
        name = L.dll.sd_measurement_region(h, r).decode()
        v = L.dll.sd_measurement_values(h, r)
        out[name] = {ids[k]: float(v[k]) for k in range(len(ids))}
        out.area[name] = int(L.dll.sd_measurement_area(h, r))
        out.warn[name] = bool(L.dll.sd_measurement_warn(h, r))
    out.px_per_mm = float(L.dll.sd_measurement_px_per_mm(h))
    t = (ctypes.c_double * 9)()
    L.dll.sd_measurement_transform(h, t)
    out.transform = np.array(t[:], dtype=float).reshape(3, 3)
    xy = (ctypes.c_double * (2 * SD_NLANDMARKS))()
    score = ctypes.c_double(math.nan)
    if L.dll.sd_measurement_landmarks(h, xy, ctypes.byref(score)):
        out.landmarks = np.array(xy[:], dtype=float).reshape(SD_NLANDMARKS, 2)
        out.face_score = score.value
    if masks:
        out.masks = {name: _mask_to_array(L.dll.sd_measurement_mask(h, r)) for r, name in enumerate(out)}
        out.skin = _mask_to_array(L.dll.sd_measurement_mask(h, -1))
        out.valid = _mask_to_array(L.dll.sd_measurement_valid(h))
        out.image = _image_to_array(L.dll.sd_measurement_image(h).contents)
    return out


def _measure_handle(L, image, o):
    """A measurement handle of a photo (path or array), baseline-style."""
    h = ctypes.c_void_p()
    if isinstance(image, (str, bytes, os.PathLike)):
        L.check(L.dll.sd_measure_file(ctypes.byref(L.ctx), _fspath(image), o.p, ctypes.byref(h)), os.fsdecode(image))
    else:
        img = _array_to_image(image)
        try:
            L.check(L.dll.sd_measure_image(ctypes.byref(L.ctx), ctypes.byref(img), o.p, ctypes.byref(h)))
        finally:
            L.dll.sd_image_free(ctypes.byref(img))
    return h


def _followup_handle(L, base, image, o):
    h = ctypes.c_void_p()
    qc = SdAlignQC()
    if isinstance(image, (str, bytes, os.PathLike)):
        L.check(L.dll.sd_measure_followup_file(ctypes.byref(L.ctx), base, _fspath(image), o.p, ctypes.byref(h),
                                               ctypes.byref(qc)), os.fsdecode(image))
    else:
        img = _array_to_image(image)
        try:
            L.check(L.dll.sd_measure_followup(ctypes.byref(L.ctx), base, ctypes.byref(img), o.p, ctypes.byref(h),
                                              ctypes.byref(qc)))
        finally:
            L.dll.sd_image_free(ctypes.byref(img))
    q = {"status": _ALIGN_STATUS.get(qc.status, str(qc.status)), "ecc": qc.ecc, "landmark_rms_px": qc.lm_rms_px,
         "overlap": qc.overlap, "iterations": qc.iterations, "levels": qc.levels,
         "W": np.array(qc.W[:], dtype=float).reshape(3, 3), "reason": qc.reason.decode(errors="replace")}
    return h, q


def measure(image, masks=False, **opts):
    """Measure one photo as `skindelta run` measures a baseline.

    image: a path, or an HxWx3 array (uint8, or float in 0..1; sRGB).
    masks: also return the region and skin masks and the canonical-frame image.
    opts: roi ("face" | "whole"), px_per_mm, iod, motion, photometry (run's options).
    Returns a Measurement: {region: {metric: value}}."""
    L = lib()
    o = _opts(**opts)
    with L.lock:
        h = _measure_handle(L, image, o)
        try:
            return _read_measurement(L, h, masks)
        finally:
            L.dll.sd_measurement_free(h)


class Comparison(dict):
    """{region: {metric: {"before", "after", "delta", "pct_change"}}} for one pair (pct_change
    None when the baseline is 0), with qc (registration figures: status ok|warn|failed, ecc,
    landmark_rms_px, overlap, reason) and before / after (the two Measurements)."""


def _pair(before, after, masks, opts):
    L = lib()
    o = _opts(**opts)
    with L.lock:
        hb = _measure_handle(L, before, o)
        try:
            hf, qc = _followup_handle(L, hb, after, o)
            try:
                a = _read_measurement(L, hf, masks)
                ids = [m["id"] for m in metrics()]
                paired = {}
                for r in range(L.dll.sd_measurement_nregions(hf)):
                    v = L.dll.sd_measurement_paired(hf, r)
                    paired[L.dll.sd_measurement_region(hf, r).decode()] = {ids[k]: float(v[k]) for k in range(len(ids))}
                return _read_measurement(L, hb, masks), a, qc, paired
            finally:
                L.dll.sd_measurement_free(hf)
        finally:
            L.dll.sd_measurement_free(hb)


def align(before, after, **opts):
    """Both photos in the canonical frame, the follow-up registered onto the baseline as run does.
    Returns {"before": HxWx3 float32, "after": HxWx3 float32 (after photometry), "valid": HxW
    bool (where the follow-up covers the frame), "qc": {...}, "transform": 3x3 (after photo px ->
    canonical px)}."""
    b, a, qc, _ = _pair(before, after, True, opts)
    return {"before": b.image, "after": a.image, "valid": a.valid, "qc": qc, "transform": a.transform}


def compare(before, after, masks=False, **opts):
    """Score one before/after pair as `skindelta compare` does (without the bootstrap). Returns a
    Comparison {region: {metric: {before, after, delta, pct_change}}} with .qc, .before, .after;
    "before" is the baseline on the skin and pixels both photos show (changes.csv's baseline),
    .before the baseline measured alone (measurements.csv's row)."""
    b, a, qc, paired = _pair(before, after, masks, opts)
    out = Comparison()
    for region, vals in a.items():
        row = {}
        for metric, v1 in vals.items():
            v0 = paired[region][metric]   # the baseline on the pair's pixels, as run compares
            d = v1 - v0
            row[metric] = {"before": v0, "after": v1, "delta": d,
                           "pct_change": 100.0 * d / abs(v0) if v0 != 0 and math.isfinite(v0) else None}
        out[region] = row
    out.qc, out.before, out.after = qc, b, a
    return out


# ---- the batch job

def run(root=None, out=None, manifest=None, **opts):
    """The batch job of `skindelta run` through the library (sd_run_batch): every patient's course
    under root (ROOT/<patient>/<session>/<view>.jpg) or in a manifest CSV, results in out.
    opts: the run options (roi, px_per_mm, jobs, bootstrap, recapture, photometry, motion, iod,
    images, report, resume, shard, mdc). Returns a Run (summary, tables)."""
    if out is None:
        raise ValueError("run: out (the output folder) is required")
    if (root is None) == (manifest is None):
        raise ValueError("run: give exactly one of root or manifest")
    L = lib()
    src = manifest if manifest is not None else root
    opts = dict(opts)
    opts["out"] = os.fspath(out)
    opts["command_line"] = "python: skindelta.run(%r, %r)" % (os.fspath(src), os.fspath(out))
    if manifest is not None:
        opts["manifest"] = os.fspath(manifest)
    else:
        opts["input_root"] = os.fspath(root)
    o = _opts(**opts)
    cat = SdCatalog()
    co = SdCatalogOpts(1)
    summary = SdRunSummary()
    with L.lock:
        L.dll.sd_run_opts_finish(o.p)
        if manifest is not None:
            L.check(L.dll.sd_catalog_manifest(ctypes.byref(L.ctx), _fspath(manifest), ctypes.byref(co), ctypes.byref(cat)),
                    os.fspath(manifest))
        else:
            L.check(L.dll.sd_catalog_scan(ctypes.byref(L.ctx), _fspath(root), ctypes.byref(co), ctypes.byref(cat)),
                    os.fspath(root))
        try:
            issues = [{"level": "error" if cat.issues[i].level == 2 else "warning",
                       "path": (cat.issues[i].path or b"").decode(errors="replace"),
                       "message": (cat.issues[i].message or b"").decode(errors="replace")}
                      for i in range(cat.nissues)]
            if cat.nentries == 0 and not any(i["level"] == "error" for i in issues):
                raise SkindeltaError(-1, "EINVAL", "no images found in %s" % os.fspath(src))
            if L.dll.sd_mkdir_p(_fspath(out)):
                raise SkindeltaError(-3, "EIO", "%s: cannot create the output folder" % os.fspath(out))
            L.check(L.dll.sd_run_batch(ctypes.byref(L.ctx), ctypes.byref(cat), o.p, ctypes.byref(summary)))
        finally:
            L.dll.sd_catalog_free(ctypes.byref(cat))
    r = load_run(out)
    r.summary = {f: getattr(summary, f) for f, _ in SdRunSummary._fields_}
    r.issues = issues
    return r
