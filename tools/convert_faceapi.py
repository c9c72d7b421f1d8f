#!/usr/bin/env python3
"""Regenerate models/*.f32.bin from the pinned npm package @vladmandic/face-api@1.7.15.

Fetches the tarball with `npm pack` (or takes it with --tarball), checks the sha256 of every
source file it reads against the values pinned below, dequantises each uint8 weight as
float32(byte * scale + min) (the product and sum in double, one rounding to float32) and writes
our "SDNN" container (format in models/README.md). The output depends only on the pinned inputs,
so the files are byte-identical on every run. Standard library only.
"""
import hashlib
import json
import os
import struct
import subprocess
import sys
import tarfile
import tempfile

PACKAGE = "@vladmandic/face-api@1.7.15"
# sha256 of every file read from the tarball.
PINNED = {
    "package/model/tiny_face_detector_model.bin":
        "b7503ce7df31039b1c43316a9b865cab6a70dd748cc602d3fa28b551503c3871",
    "package/model/face_landmark_68_model.bin":
        "4611ef65c87d836d03d684b30eec4d195d8b219fa1dd58fc58945831c6b9299b",
    "package/model/face_landmark_68_tiny_model.bin":
        "b98e9f2f7da76f8a6dda9741a36ed485b224b889d552de2b2c1bb16217f67bfc",
    "package/model/tiny_face_detector_model-weights_manifest.json":
        "5d1af4849ac48d5b985f4a9b16010c512353ddd6fcc63d50fd0bc9e9e64296e5",
    "package/model/face_landmark_68_model-weights_manifest.json":
        "ca4886639f86e99b39fed0c155f81b63317225773bd9616716e887b0153389c9",
    "package/model/face_landmark_68_tiny_model-weights_manifest.json":
        "9a1a5dd19fd814fd5095c3cb58f8e0d3193b8c5b9a6715b30a69d559aea31ad4",
    "package/LICENSE":
        "9a3442b79acaf4fbc7c2e07b7e2d8f84af9bb3871bf08a69d80304ab00640e9a",
}
# (source stem, output file, sha256 of the output: the conversion is deterministic)
MODELS = [
    ("tiny_face_detector_model", "tiny_face_detector.f32.bin",
     "f3369c1531fd7d1f029d66ce607db5739c3fcf6d8e874be25ed8e64b2d22de58"),
    ("face_landmark_68_model", "face_landmark_68.f32.bin",
     "cad47411574dffcf358cf2a8d4e98f15fa2e202e4ef8ff38ebf481317e38d4d8"),
    ("face_landmark_68_tiny_model", "face_landmark_68_tiny.f32.bin",
     "10aff779e7c9845eb024fb3ebff9c48384827666126e3823a5d19e643c4ebdbd"),
]
MAGIC = b"SDNN"
VERSION = 1
NAME_LEN = 40
MAX_DIMS = 4


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def fetch_tarball(workdir):
    out = subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=workdir, check=True,
                         stdout=subprocess.PIPE, text=True).stdout.strip().splitlines()
    return os.path.join(workdir, out[-1].strip())


def read_member(tar, name):
    data = tar.extractfile(name).read()
    got = sha256(data)
    if got != PINNED[name]:
        sys.exit("convert_faceapi: sha256 mismatch for %s:\n  expected %s\n  got      %s"
                 % (name, PINNED[name], got))
    return data


def convert(manifest_bytes, weights):
    manifest = json.loads(manifest_bytes)
    if len(manifest) != 1:
        sys.exit("convert_faceapi: expected one manifest group")
    entries = manifest[0]["weights"]
    table, blobs, pos = [], [], 0
    for e in entries:
        q = e["quantization"]
        if q["dtype"] != "uint8" or e["dtype"] != "float32":
            sys.exit("convert_faceapi: unsupported quantisation in %s" % e["name"])
        shape = e["shape"]
        n = 1
        for d in shape:
            n *= d
        raw = weights[pos:pos + n]
        if len(raw) != n:
            sys.exit("convert_faceapi: weight file too short at %s" % e["name"])
        scale, mn = float(q["scale"]), float(q["min"])
        vals = [b * scale + mn for b in raw]
        blobs.append(struct.pack("<%df" % n, *vals))
        table.append((e["name"], shape, sum(len(b) for b in blobs[:-1]) // 4))
        pos += n
    if pos != len(weights):
        sys.exit("convert_faceapi: %d trailing bytes in weight file" % (len(weights) - pos))
    head_len = 16 + 64 * len(table)
    data_off = (head_len + 63) // 64 * 64
    out = bytearray(MAGIC + struct.pack("<III", VERSION, len(table), data_off))
    for name, shape, off in table:
        nb = name.encode("ascii")
        if len(nb) >= NAME_LEN or len(shape) > MAX_DIMS:
            sys.exit("convert_faceapi: name or rank too large: %s" % name)
        dims = list(shape) + [0] * (MAX_DIMS - len(shape))
        out += nb + b"\0" * (NAME_LEN - len(nb))
        out += struct.pack("<I4II", len(shape), *dims, off)
    out += b"\0" * (data_off - len(out))
    for b in blobs:
        out += b
    return bytes(out)


def main():
    args = sys.argv[1:]
    tarball = None
    if len(args) >= 2 and args[0] == "--tarball":
        tarball, args = args[1], args[2:]
    if len(args) != 1:
        sys.exit("usage: convert_faceapi.py [--tarball FILE.tgz] OUTDIR")
    outdir = args[0]
    os.makedirs(outdir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        if tarball is None:
            tarball = fetch_tarball(tmp)
        with tarfile.open(tarball, "r:gz") as tar:
            for stem, outname, want in MODELS:
                w = read_member(tar, "package/model/%s.bin" % stem)
                m = read_member(tar, "package/model/%s-weights_manifest.json" % stem)
                blob = convert(m, w)
                if sha256(blob) != want:
                    sys.exit("convert_faceapi: %s converts to sha256 %s, expected %s"
                             % (outname, sha256(blob), want))
                path = os.path.join(outdir, outname)
                with open(path + ".tmp", "wb") as f:
                    f.write(blob)
                os.replace(path + ".tmp", path)
                print("  %-32s %8d bytes  sha256 %s" % (path, len(blob), sha256(blob)))
            lic = read_member(tar, "package/LICENSE")
            with open(os.path.join(outdir, "LICENSE.face-api"), "wb") as f:
                f.write(lic)


if __name__ == "__main__":
    main()
