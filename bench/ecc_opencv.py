#!/usr/bin/python3
"""OpenCV's findTransformECC on the pair bench_register wrote (same pixels, same start), one thread.
usage: /usr/bin/python3 bench/ecc_opencv.py OUTDIR CSV  (appends rows; prints a summary line)"""
import sys
import time

try:
    import cv2
    import numpy as np
except ImportError:
    print("ecc_opencv: python3-opencv (cv2) not available; skipping the OpenCV comparison")
    sys.exit(0)


def rms_err(e, t, w, h):
    ys, xs = np.mgrid[h // 10:h - h // 10:8, w // 10:w - w // 10:8]
    p = np.stack([xs.ravel(), ys.ravel(), np.ones(xs.size)])
    d = (e @ p) - (t @ p)
    return float(np.sqrt((d ** 2).sum(0).mean()))


def main():
    out, csv = sys.argv[1], sys.argv[2]
    rows = np.loadtxt(out + "/truth.txt")
    truth, init = rows[:2], rows[2:4]
    cv2.setNumThreads(1)
    # Rec.709 luma of the decoded 8-bit RGB, as our side uses
    def luma(path):
        im = cv2.imread(path, cv2.IMREAD_COLOR).astype(np.float32) / 255.0
        return (0.0722 * im[:, :, 0] + 0.7152 * im[:, :, 1] + 0.2126 * im[:, :, 2]).astype(np.float32)
    tmpl, inp = luma(out + "/template.png"), luma(out + "/input.png")
    h, w = tmpl.shape
    e0 = rms_err(init, truth, w, h)
    with open(csv, "a") as f:
        for name, crit in (("default", (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 50, 1e-3)),
                           ("tight", (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 200, 1e-6))):
            times, err, rho = [], None, None
            for _ in range(3):
                warp = init.astype(np.float32).copy()
                t0 = time.perf_counter()
                try:
                    rho, warp = cv2.findTransformECC(tmpl, inp, warp, cv2.MOTION_AFFINE, crit, None, 5)
                except cv2.error as ex:
                    print("opencv ECC failed:", ex)
                    rho = float("nan")
                times.append(time.perf_counter() - t0)
                err = rms_err(warp.astype(np.float64), truth, w, h)
            ms = sorted(times)[len(times) // 2] * 1e3
            print("OpenCV %s findTransformECC %-7s affine %dx%d: start %.3f px -> %.4f px RMS, %.1f ms "
                  "(median of 3), ecc %.4f" % (cv2.__version__, name, w, h, e0, err, ms, rho))
            f.write("opencv-%s,%s,affine,%dx%d,%.4f,%.5f,%.2f,\n" % (cv2.__version__, name, w, h, e0, err, ms))


if __name__ == "__main__":
    main()
