"""Loading libskindelta.so and the C structures the binding passes (include/skindelta/*.h).

Only small, stable structures are mirrored here (SdCtx, SdImage, SdMask, SdAlignQC,
SdRunSummary, the catalog); the run options and measurements are opaque handles of the C API
(include/skindelta/measure.h), so the larger option structures never cross the boundary.
"""
import ctypes
import ctypes.util
import os
import threading

SD_ERRMSG_MAX = 1024
SD_NLANDMARKS = 68
SD_FMT_F32 = 0
SD_FMT_U8 = 1


class SkindeltaError(RuntimeError):
    """An error of the library: `code` is the negative sd_err value, `name` its short name
    ("EFORMAT"), the message the library's detail text."""

    def __init__(self, code, name, message):
        super().__init__("%s: %s" % (name, message) if message else name)
        self.code = code
        self.name = name


class SdCtx(ctypes.Structure):
    _fields_ = [("cpu_flags", ctypes.c_uint), ("errmsg", ctypes.c_char * SD_ERRMSG_MAX)]


class SdImage(ctypes.Structure):
    _fields_ = [("w", ctypes.c_int), ("h", ctypes.c_int), ("c", ctypes.c_int), ("fmt", ctypes.c_int),
                ("stride", ctypes.c_ssize_t), ("plane_bytes", ctypes.c_size_t),
                ("data", ctypes.POINTER(ctypes.c_uint8)), ("borrowed", ctypes.c_int)]


class SdMask(ctypes.Structure):
    _fields_ = [("w", ctypes.c_int), ("h", ctypes.c_int), ("stride", ctypes.c_ssize_t),
                ("data", ctypes.POINTER(ctypes.c_uint8))]


class SdAlignQC(ctypes.Structure):
    _fields_ = [("ecc", ctypes.c_double), ("lm_rms_px", ctypes.c_double), ("overlap", ctypes.c_double),
                ("iterations", ctypes.c_int), ("levels", ctypes.c_int), ("status", ctypes.c_int),
                ("W", ctypes.c_double * 9), ("reason", ctypes.c_char * 160)]


class SdRunSummary(ctypes.Structure):
    _fields_ = [("patients", ctypes.c_int), ("patients_skipped", ctypes.c_int), ("images", ctypes.c_int),
                ("images_failed", ctypes.c_int), ("pairs_scored", ctypes.c_int), ("pairs_warn", ctypes.c_int),
                ("seconds", ctypes.c_double), ("write_errors", ctypes.c_int)]


class SdCatIssue(ctypes.Structure):
    _fields_ = [("level", ctypes.c_int), ("code", ctypes.c_int), ("path", ctypes.c_char_p),
                ("message", ctypes.c_char_p)]


class SdCatalog(ctypes.Structure):
    _fields_ = [("entries", ctypes.c_void_p), ("nentries", ctypes.c_int),
                ("patients", ctypes.c_void_p), ("npatients", ctypes.c_int),
                ("issues", ctypes.POINTER(SdCatIssue)), ("nissues", ctypes.c_int),
                ("root", ctypes.c_char_p)]


class SdCatalogOpts(ctypes.Structure):
    _fields_ = [("read_exif_dates", ctypes.c_int)]


class SdMetricInfo(ctypes.Structure):
    _fields_ = [("id", ctypes.c_char_p), ("unit", ctypes.c_char_p), ("better", ctypes.c_int),
                ("primary", ctypes.c_int), ("what", ctypes.c_char_p)]


P = ctypes.POINTER
c_int, c_long, c_double, c_char_p, c_void_p = ctypes.c_int, ctypes.c_long, ctypes.c_double, ctypes.c_char_p, ctypes.c_void_p
_SIGNATURES = {
    "sd_version": (c_char_p, []),
    "sd_strerror": (c_char_p, [c_int]),
    "sd_errname": (c_char_p, [c_int]),
    "sd_ctx_init": (c_int, [P(SdCtx)]),
    "sd_ctx_cpu_name": (c_char_p, [P(SdCtx)]),
    "sd_init": (c_int, [P(SdCtx), c_char_p]),
    "sd_image_create": (c_int, [P(SdImage), c_int, c_int, c_int, c_int]),
    "sd_image_free": (None, [P(SdImage)]),
    "sd_load_opts_default": (None, [c_void_p]),
    "sd_image_load": (c_int, [P(SdCtx), c_char_p, c_void_p, P(SdImage), c_void_p]),
    "sd_metric_info": (P(SdMetricInfo), [c_int]),
    "sd_run_opts_new": (c_void_p, []),
    "sd_run_opts_free": (None, [c_void_p]),
    "sd_run_opts_set": (c_int, [P(SdCtx), c_void_p, c_char_p, c_char_p]),
    "sd_run_opts_finish": (None, [c_void_p]),
    "sd_measure_image": (c_int, [P(SdCtx), P(SdImage), c_void_p, P(c_void_p)]),
    "sd_measure_file": (c_int, [P(SdCtx), c_char_p, c_void_p, P(c_void_p)]),
    "sd_measure_followup": (c_int, [P(SdCtx), c_void_p, P(SdImage), c_void_p, P(c_void_p), P(SdAlignQC)]),
    "sd_measure_followup_file": (c_int, [P(SdCtx), c_void_p, c_char_p, c_void_p, P(c_void_p), P(SdAlignQC)]),
    "sd_measurement_free": (None, [c_void_p]),
    "sd_measurement_nregions": (c_int, [c_void_p]),
    "sd_measurement_region": (c_char_p, [c_void_p, c_int]),
    "sd_measurement_values": (P(c_double), [c_void_p, c_int]),
    "sd_measurement_paired": (P(c_double), [c_void_p, c_int]),
    "sd_measurement_area": (c_long, [c_void_p, c_int]),
    "sd_measurement_warn": (c_int, [c_void_p, c_int]),
    "sd_measurement_mask": (P(SdMask), [c_void_p, c_int]),
    "sd_measurement_image": (P(SdImage), [c_void_p]),
    "sd_measurement_valid": (P(SdMask), [c_void_p]),
    "sd_measurement_px_per_mm": (c_double, [c_void_p]),
    "sd_measurement_transform": (None, [c_void_p, P(c_double)]),
    "sd_measurement_landmarks": (c_int, [c_void_p, P(c_double), P(c_double)]),
    "sd_catalog_scan": (c_int, [P(SdCtx), c_char_p, P(SdCatalogOpts), P(SdCatalog)]),
    "sd_catalog_manifest": (c_int, [P(SdCtx), c_char_p, P(SdCatalogOpts), P(SdCatalog)]),
    "sd_catalog_pair": (c_int, [P(SdCtx), c_char_p, c_char_p, P(SdCatalog)]),
    "sd_catalog_free": (None, [P(SdCatalog)]),
    "sd_run_batch": (c_int, [P(SdCtx), P(SdCatalog), c_void_p, P(SdRunSummary)]),
    "sd_mkdir_p": (c_int, [c_char_p]),
}

# SdLoadOpts is only filled by sd_load_opts_default and passed back: room for it, generously.
LOAD_OPTS_BYTES = 256


def _candidates():
    env = os.environ.get("SKINDELTA_LIB")
    if env:
        if os.path.isdir(env):
            return [os.path.join(env, "libskindelta.so")], "SKINDELTA_LIB=%s" % env
        return [env], "SKINDELTA_LIB=%s" % env
    here = os.path.dirname(os.path.abspath(__file__))
    names = ["libskindelta.so.0", "libskindelta.so"]
    found = ctypes.util.find_library("skindelta")
    if found:
        names.append(found)
    local = sorted(f for f in os.listdir(here) if f.startswith("libskindelta.so"))
    return names + [os.path.join(here, f) for f in local], \
        "the loader's path (libskindelta.so.0, LD_LIBRARY_PATH, ldconfig) or %s" % here


def _models_beside(path):
    """Set SKINDELTA_MODELS from the library's place when it is unset: an installed tree keeps the
    models in PREFIX/share/skindelta/models, a build tree in build/../models."""
    if os.environ.get("SKINDELTA_MODELS"):
        return
    libdir = os.path.dirname(os.path.realpath(path))
    for d in (os.path.join(libdir, "..", "share", "skindelta", "models"), os.path.join(libdir, "..", "models")):
        if os.path.isfile(os.path.join(d, "regions.json")):
            os.environ["SKINDELTA_MODELS"] = os.path.realpath(d)
            return


class _Lib:
    def __init__(self):
        self.lock = threading.RLock()
        self.dll = None
        self.path = None
        self.ctx = SdCtx()

    def load(self):
        if self.dll is not None:
            return self
        with self.lock:
            if self.dll is not None:
                return self
            names, where = _candidates()
            errors = []
            for n in names:
                try:
                    dll = ctypes.CDLL(n)
                except OSError as e:
                    errors.append(str(e))
                    continue
                if not hasattr(dll, "sd_measure_image"):
                    errors.append("%s: no sd_measure_image (an older libskindelta)" % n)
                    continue
                break
            else:
                raise SkindeltaError(-8, "EDEP", "libskindelta.so not found through %s (%s)" %
                                     (where, "; ".join(errors[-3:])))
            for name, (res, args) in _SIGNATURES.items():
                f = getattr(dll, name)
                f.restype = res
                f.argtypes = args
            try:
                info = {}
                with open("/proc/self/maps") as maps:
                    for line in maps:
                        if "libskindelta.so" in line:
                            info["path"] = line.split()[-1]
                            break
                self.path = info.get("path", n)
            except OSError:
                self.path = n
            _models_beside(self.path)
            err = dll.sd_ctx_init(ctypes.byref(self.ctx))
            if err == 0:
                err = dll.sd_init(ctypes.byref(self.ctx), b"python")
            if err:
                raise SkindeltaError(err, dll.sd_errname(err).decode(), self.ctx.errmsg.decode(errors="replace"))
            self.dll = dll
        return self

    def check(self, err, what=None):
        """Raise SkindeltaError for a negative return, naming `what` (a file) when given."""
        if err >= 0:
            return err
        msg = self.ctx.errmsg.decode(errors="replace")
        if what and what not in msg:
            msg = "%s: %s" % (what, msg) if msg else what
        raise SkindeltaError(err, self.dll.sd_errname(err).decode(), msg or self.dll.sd_strerror(err).decode())


LIB = _Lib()


def lib():
    return LIB.load()
