#!/usr/bin/python3
"""OpenCV equivalents of the skindelta kernel benchmark, one thread, same sizes.

Prints one line per kernel: `name,mpix_per_s` (median thread CPU time of --reps runs after a
warm-up, up to 64 runs for fast kernels), where
mpix_per_s counts image pixels (not samples), like bench_kernels. Run by bench_kernels with
Debian's /usr/bin/python3 (python3-opencv); exits 3 with a message when cv2 is missing.
"""
import argparse
import math
import sys
import time

try:
    import cv2
    import numpy as np
except ImportError as e:  # pragma: no cover
    print(f"opencv_kernels.py: {e}", file=sys.stderr)
    sys.exit(3)


def gauss_kernels(sigma):
    """Same 1-D kernels as sd_gauss_kernel: radius ceil(3 sigma), centre + both sides."""
    r = max(1, math.ceil(3 * sigma - 1e-4))
    i = np.arange(-r, r + 1, dtype=np.float64)
    g = np.exp(-0.5 * i * i / sigma**2)
    g0 = g / g.sum()
    d1 = -i / sigma**2 * g                       # correlation form: response 1 to I = x
    d1 = d1 / np.sum(d1 * -i) * -1
    t = (i * i / sigma**2 - 1) / sigma**2 * g
    t -= t.mean()
    d2 = t / np.sum(t * i * i / 2)
    return [k.astype(np.float32) for k in (g0, d1, d2)]


def median_time(fn, reps):
    """Median thread CPU time (cv2 runs in this thread with setNumThreads(1)), like bench_kernels:
    robust to other processes sharing the core."""
    t0 = time.thread_time()
    fn()
    tw = time.thread_time() - t0
    if tw > 0 and reps * tw < 0.3:      # fast kernels: more runs (~0.3 s), as bench_kernels does
        reps = min(64, int(0.3 / tw))
    ts = []
    for _ in range(reps):
        t0 = time.thread_time()
        fn()
        ts.append(time.thread_time() - t0)
    ts.sort()
    return ts[len(ts) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--width", type=int, default=3000)
    ap.add_argument("--height", type=int, default=2000)
    ap.add_argument("--u8-width", type=int, default=6000)
    ap.add_argument("--u8-height", type=int, default=4000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    cv2.setNumThreads(1)
    rng = np.random.default_rng(1)
    w, h = a.width, a.height
    img = rng.random((h, w), dtype=np.float32)
    rgb = rng.random((h, w, 3), dtype=np.float32)
    # same region mask as bench_kernels: an ellipse over ~75% of the image with a hole
    yy, xx = np.mgrid[0:h, 0:w]
    u, v = (xx - 0.5 * w) / (0.55 * w), (yy - 0.5 * h) / (0.55 * h)
    e, f = (xx - 0.35 * w) / (0.08 * w), (yy - 0.4 * h) / (0.05 * h)
    mask = ((u * u + v * v <= 1.0) & (e * e + f * f > 1.0)).astype(np.uint8) * 255
    u8 = rng.integers(0, 256, (a.u8_height, a.u8_width, 3), dtype=np.uint8)
    lut = ((np.arange(256) / 255.0 + 0.055) / 1.055) ** 2.4
    lut = np.where(np.arange(256) / 255.0 <= 0.04045, np.arange(256) / 255.0 / 12.92, lut)
    lut = lut.astype(np.float32).reshape(256, 1)
    lut3 = np.repeat(lut, 3, axis=1).reshape(1, 256, 3)
    M = np.array([[1.02, 0.05, 13.5], [-0.04, 0.98, -7.25]], dtype=np.float64)
    H = np.array([[1.02, 0.05, 13.5], [-0.04, 0.98, -7.25], [2e-6, -3e-6, 1.0]], dtype=np.float64)
    g2, _, _ = gauss_kernels(2.0)
    g8, _, _ = gauss_kernels(8.0)
    gd, d1, d2 = gauss_kernels(2.0)
    mix = np.array([[0.6, 0.3, 0.1], [-0.2, 0.9, 0.3], [0.1, -0.4, 1.2]], dtype=np.float32)
    bd = cv2.BORDER_REFLECT_101

    def gauss(sig):
        k = g2 if sig == 2 else g8
        return lambda: cv2.GaussianBlur(img, (len(k), len(k)), sig, sigmaY=sig, borderType=bd)

    def deriv():
        cv2.sepFilter2D(img, cv2.CV_32F, d1, gd, borderType=bd)   # Ix
        cv2.sepFilter2D(img, cv2.CV_32F, gd, d1, borderType=bd)   # Iy
        cv2.sepFilter2D(img, cv2.CV_32F, d2, gd, borderType=bd)   # Ixx
        cv2.sepFilter2D(img, cv2.CV_32F, d1, d1, borderType=bd)   # Ixy
        cv2.sepFilter2D(img, cv2.CV_32F, gd, d2, borderType=bd)   # Iyy

    def box():
        m = cv2.boxFilter(img, cv2.CV_32F, (15, 15), borderType=bd)
        q = cv2.sqrBoxFilter(img, cv2.CV_32F, (15, 15), borderType=bd)
        cv2.subtract(q, cv2.multiply(m, m))

    def od():
        cv2.multiply(cv2.log(cv2.max(img, 1e-4)), -1.0 / math.log(10.0))

    def moments():
        cv2.meanStdDev(img, mask=mask)
        cv2.minMaxLoc(img, mask=mask)

    tests = [
        ("gauss_s2", gauss(2), w * h),
        ("gauss_s8", gauss(8), w * h),
        ("deriv5_s2", deriv, w * h),
        ("box_meanvar_r7", box, w * h),
        ("warp_affine", lambda: cv2.warpAffine(img, M, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                               borderMode=cv2.BORDER_CONSTANT), w * h),
        ("warp_homog", lambda: cv2.warpPerspective(img, H, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                                   borderMode=cv2.BORDER_CONSTANT), w * h),
        ("down2", lambda: cv2.resize(img, ((w + 1) // 2, (h + 1) // 2), interpolation=cv2.INTER_AREA), w * h),
        ("srgb8_to_linear", lambda: cv2.LUT(u8, lut3), a.u8_width * a.u8_height),
        ("rgb_to_lab", lambda: cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab), w * h),
        ("optical_density", od, w * h),
        ("mat3", lambda: cv2.transform(rgb, mix), w * h),
        ("moments_masked", moments, w * h),
        ("histogram_masked", lambda: cv2.calcHist([img], [0], mask, [256], [0.0, 1.0]), w * h),
    ]
    only = set(a.only.split(",")) if a.only else None
    for name, fn, npx in tests:
        if only and name not in only:
            continue
        t = median_time(fn, a.reps)
        print(f"{name},{npx / t / 1e6:.1f}", flush=True)


if __name__ == "__main__":
    main()
