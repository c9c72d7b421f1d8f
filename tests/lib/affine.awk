# Reads alignment.csv rows (contract columns a11,a12,tx,a21,a22,ty at fields 7..12) of a baseline
# (row B) and a follow-up (row A), each mapping its photo's pixels to the canonical frame, and
# prints the follow-up-from-baseline photo transform F = A^-1 B as "f11 f12 ftx f21 f22 fty", to
# compare with a fixture's known transform. Usage: awk -F, -v b=ROW -v a=ROW -f affine.awk FILE
NR == b { for (i = 0; i < 6; i++) B[i] = $(7 + i); nb = 1 }
NR == a { for (i = 0; i < 6; i++) A[i] = $(7 + i); na = 1 }
END {
    if (!nb || !na) { print "affine.awk: rows not found" > "/dev/stderr"; exit 1 }
    det = A[0] * A[4] - A[1] * A[3]
    if (det == 0) { print "affine.awk: singular" > "/dev/stderr"; exit 1 }
    i11 = A[4] / det; i12 = -A[1] / det; i21 = -A[3] / det; i22 = A[0] / det
    f11 = i11 * B[0] + i12 * B[3]; f12 = i11 * B[1] + i12 * B[4]
    f21 = i21 * B[0] + i22 * B[3]; f22 = i21 * B[1] + i22 * B[4]
    dx = B[2] - A[2]; dy = B[5] - A[5]
    printf "%.6f %.6f %.4f %.6f %.6f %.4f\n", f11, f12, i11 * dx + i12 * dy, f21, f22, i21 * dx + i22 * dy
}
