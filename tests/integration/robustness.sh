#!/usr/bin/env bash
# Robustness of the CLI contracts on hostile and awkward inputs (black box, through $SKINDELTA_BIN):
# damaged files, EXIF-rotated photos, FIFOs and devices named .jpg, folders named like images,
# control characters and CSV-hostile names, manifests with BOM/CRLF/quotes/bad lines, a reused or
# unusable OUT, --resume after failures, and bad option values. The contract: no crash, no hang,
# one clear line naming the file, the batch goes on, exit 0/1/2 as DESIGN.md §7 says, no temp files
# left behind, CSV files that a strict parser accepts with exactly the contract headers.
# Small inputs (synth patches, --roi whole) so it stays fast under ASan too.
ITEST_NAME=robustness; . "$(dirname "$0")/../lib/itest.sh"
# under ASan a report must not pass for the expected "exit 1"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=86"
PY=""
for p in /usr/bin/python3 python3; do command -v "$p" >/dev/null 2>&1 && { PY=$p; break; }; done
WHOLE="--roi whole --px-per-mm 10 --bootstrap 0 --no-images --no-report --quiet --jobs 2"

# Strict CSV check of a run folder: every contract file parses (strict quoting), exact headers,
# equal field counts, no *.tmp.* files anywhere. Prints the problems; exit status 0 when clean.
csv_ok() {
    [ -n "$PY" ] || { echo "csv_ok: python3 not found: cannot check the CSV files (tools/test-deps.sh)" >&2; return 1; }
    "$PY" - "$1" <<'EOF'
import csv, os, sys
H = {
 'measurements.csv': 'patient,view,session,session_index,days,region,metric,value,unit,better,qc',
 'changes.csv': 'patient,view,session,session_index,days,region,metric,baseline,value,delta,pct_change,improvement_pct,mdc95,beyond_noise,unit',
 'cohort.csv': 'view,session_index,region,metric,n,mean_delta,sd_delta,ci95_low,ci95_high,t_p,wilcoxon_p,holm_p,cohens_dz,responders_pct,mean_pct_change,mean_improvement_pct,family,bh_q,min_wilcoxon_p,unit',
 'alignment.csv': 'patient,view,session,face_score,landmark_rms_px,ecc,a11,a12,tx,a21,a22,ty,status',
 'errors.csv': 'path,stage,code,message',
 'trends.csv': 'patient,view,region,metric,n_sessions,slope,slope_unit,ci95_low,ci95_high',
 'uncertainty.csv': 'patient,view,session,region,metric,sd,n_boot,paired_baseline',
}
d, bad = sys.argv[1], 0
for name, h in H.items():
    p = os.path.join(d, name)
    try:
        with open(p, newline='', encoding='utf-8') as f:
            rows = list(csv.reader(f, strict=True))
    except Exception as e:
        print(name, e); bad += 1; continue
    hdr = ','.join(rows[0]) if rows else ''
    if not (hdr.startswith(h + ',') or hdr == h) or (name != 'alignment.csv' and hdr != h):
        print(name, 'header', hdr); bad += 1
    for i, r in enumerate(rows[1:]):
        if len(r) != len(rows[0]):
            print(name, 'line', i + 2, 'has', len(r), 'fields'); bad += 1; break
        if any(c in ''.join(r) for c in '\x1f\r'):
            print(name, 'line', i + 2, 'control character'); bad += 1; break
for root, dirs, files in os.walk(d):
    for f in files:
        if '.tmp.' in f: print('temp file left', os.path.join(root, f)); bad += 1
sys.exit(1 if bad else 0)
EOF
}

# ---- fixtures: synth patches (JPEG with an EXIF block) and hostile files
"$BIN" synth -o $T/syn --size 160 --patients 3 --sessions 2 --seed 7 >/dev/null 2>&1
check "synth fixtures written: 3 patients x 2 sessions of 160 px" \
    "[ \$(ls $T/syn/p00[1-3]/s[12]/front.jpg | wc -l) -eq 6 ] && file $T/syn/p003/s2/front.jpg | grep -q '160x160'"
J=$T/syn/p001/s1/front.jpg
"$BIN" synth -o $T/big --size 800 --patients 1 --sessions 1 --seed 3 >/dev/null 2>&1
# EXIF orientation 3/6/8 on an 800 px JPEG: patch the orientation value of synth's EXIF block
for o in 3 6 8; do
    cp $T/big/p001/s1/front.jpg $T/or$o.jpg
    off=$(LC_ALL=C grep -obUaP '\x12\x01\x03\x00\x01\x00\x00\x00' $T/or$o.jpg 2>/dev/null | head -n 1 | cut -d: -f1)
    # no silent skip: without the tag the EXIF checks below would test an unrotated photo
    check "EXIF orientation tag found in synth's JPEG (offset '$off')" "[ -n '$off' ]"
    [ -n "$off" ] && printf "\\x0$o" | dd of=$T/or$o.jpg bs=1 seek=$((off + 8)) conv=notrunc 2>/dev/null
    check "EXIF orientation $o written" "[ -n '$off' ] && [ \$(od -An -tu1 -j \$(($off + 8)) -N1 $T/or$o.jpg) -eq $o ]"
done
D=$T/bad; mkdir -p $D
: > $D/zero.jpg
head -c 1500 $J > $D/trunc.jpg
head -c 4000 /dev/urandom > $D/garbage.jpg
echo "not an image, just text" > $D/text.jpg
mkdir -p $D/folder.jpg
ln -s loop_b.jpg $D/loop_a.jpg; ln -s loop_a.jpg $D/loop_b.jpg
mkfifo $D/fifo.jpg
ln -s /dev/zero $D/devzero.jpg
# an SVG (and a vips .v header) renamed .png/.jpg: only photo decoders may parse inputs
printf '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400"><rect width="9" height="9"/></svg>' > $D/svg.jpg
printf '\x08\xf2\xa6\xb6\x00\x02\x00\x00\x00\x02\x00\x00\x03\x00\x00\x00' > $D/vips.jpg; head -c 100 /dev/zero >> $D/vips.jpg
# a PNG header claiming 100000 x 100000 pixels
printf '\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x01\x86\xa0\x00\x01\x86\xa0\x08\x02\x00\x00\x00\x27\x30\x9c\x9f' > $D/huge.png
printf '\x00\x00\x00\x0cIDAT\x78\x9c\x63\x60\xa0\x3d\x00\x00\x00\x64\x00\x01\x86\x64\x3c\x35\x00\x00\x00\x00IEND\xae\x42\x60\x82' >> $D/huge.png

# ---- single images: EXIF-rotated photos load; damaged ones give one line naming the file
for o in 3 6 8; do
    timeout 60 "$BIN" landmarks $T/or$o.jpg >/dev/null 2>$T/lm.err; rc=$?
    check "EXIF orientation $o JPEG (800 px) decodes (rc $rc: $(head -c 120 $T/lm.err))" \
          "[ $rc -le 1 ] && ! grep -q 'decoding failed\|out of order' $T/lm.err"
done
for f in zero trunc garbage text folder loop_a fifo devzero svg vips; do
    timeout 20 "$BIN" landmarks $D/$f.jpg >/dev/null 2>$T/lm.err; rc=$?
    check "landmarks on $f.jpg: exit 1, one line naming the file (rc $rc)" \
          "[ $rc -eq 1 ] && [ \$(wc -l < $T/lm.err) -eq 1 ] && grep -q '$D/$f.jpg' $T/lm.err"
done
timeout 20 "$BIN" landmarks $D/huge.png >/dev/null 2>$T/lm.err; rc=$?
check "PNG claiming 100000x100000 is refused by the pixel limit (rc $rc)" "[ $rc -eq 1 ] && grep -q 'exceeds the limit' $T/lm.err"

# ---- a batch with hostile entries
R=$T/root; mkdir -p $R
cp -r $T/syn/p001 $T/syn/p002 $R/
P3="$R/p 3 ü,\"q'"; mkdir -p "$P3/1" "$P3/2" "$P3/10"          # spaces, unicode, comma, quotes; sessions 1,2,10
cp $T/syn/p003/s1/front.jpg "$P3/1/front.jpg"; cp $T/syn/p003/s2/front.jpg "$P3/2/front.jpg"
cp $T/syn/p003/s2/front.jpg "$P3/10/front.jpg"
mkdir -p $R/p4/a $R/p4/b; cp $J $R/p4/a/front.jpg; cp $D/trunc.jpg $R/p4/b/front.jpg    # corrupt follow-up
mkdir -p $R/p5/a $R/p5/b; cp $D/zero.jpg $R/p5/a/front.jpg; cp $J $R/p5/b/front.jpg     # empty baseline
mkdir -p $R/p6/a $R/p6/b; cp $J $R/p6/a/front.jpg; cp $J $R/p6/b/front.png; mkdir $R/p6/b/front.jpg  # folder named .jpg
mkdir -p $R/p7/a $R/p7/b; cp $J $R/p7/a/front.jpg; mkfifo $R/p7/b/front.jpg             # FIFO follow-up
mkdir -p $R/p8/a $R/p8/b; cp $J $R/p8/a/front.jpg; ln -s /dev/zero $R/p8/b/front.jpg    # device follow-up
mkdir -p "$R/p9"$'\x1f'"x/a" "$R/p9"$'\x1f'"x/b"; cp $J "$R/p9"$'\x1f'"x/a/front.jpg"      # control character
cp $J "$R/p9"$'\x1f'"x/b/front.jpg"
mkdir -p $R/p10/a $R/p10/b; cp $J $R/p10/a/front.jpg; cp $J $R/p10/b/front.jpg; cp $J $R/p10/b/side.jpg  # side: no baseline
mkdir -p $R/p11/only; cp $J $R/p11/only/front.jpg                                        # one session
echo notes > $R/notes.txt; echo '{}' > $R/p001/meta.json

timeout 50 "$BIN" catalog $R --csv --no-exif >$T/cat.csv 2>$T/cat.err; rc=$?
check "catalog of the hostile tree exits 1 (errors present) (rc $rc)" "[ $rc -eq 1 ]"
check "catalog: sessions 1,2,10 in natural order" \
      "grep -q '^\"p 3 ü,\"\"q'\"'\"'\",front,10,2,' $T/cat.csv && grep -q '^\"p 3 ü,\"\"q'\"'\"'\",front,2,1,' $T/cat.csv"
check "catalog: a folder named front.jpg is an error and does not shadow p6's front.png" \
      "grep -q 'p6/b/front.jpg: is a folder' $T/cat.err && grep -q '^p6,front,b,1,.*p6/b/front.png' $T/cat.csv"
check "catalog: a name with a control character is refused on one line" "grep -q 'control characters' $T/cat.err"
check "catalog: sidecar files are not reported" "! grep -q 'notes.txt\|meta.json' $T/cat.err"

timeout 50 "$BIN" run $R -o $T/out $WHOLE 2>$T/run.err; rc=$?
check "run on the hostile tree exits 1 and does not hang (rc $rc)" "[ $rc -eq 1 ]"
check "run: contract CSV files parse strictly, exact headers, no temp files" "csv_ok $T/out >&2"
for pat in 'p4/b/front.jpg,load,' 'p5/a/front.jpg,load,' 'p5/b/front.jpg,baseline,' 'p6/b/front.jpg,catalog,' \
           'p7/b/front.jpg,load,' 'p8/b/front.jpg,load,' 'p10/b/side.jpg,catalog,'; do
    check "errors.csv has $pat" "grep -q '$pat' $T/out/errors.csv"
done
check "every errors.csv row is also a line on stderr naming the file" \
      "[ \$(grep -c '' $T/out/errors.csv) -gt 1 ] && tail -n +2 $T/out/errors.csv | cut -d, -f1 | while read -r p; do grep -qF \"\$p\" $T/run.err || exit 1; done"
check "the good patients are scored (p001, p002, quoted name, p6 via front.png)" \
      "grep -q '^p001,front,s2,' $T/out/changes.csv && grep -q '^p002,front,s2,' $T/out/changes.csv && grep -q '^\"p 3 ü,\"\"q'\"'\"'\",front,10,2,' $T/out/changes.csv && grep -q '^p6,front,b,' $T/out/changes.csv"

: > $T/out/patients/p001/errors.csv.tmp.99999999.7       # left by a killed run (no such pid)
: > $T/out/measurements.csv.tmp.99999999.8
timeout 50 "$BIN" run $R -o $T/out $WHOLE --resume 2>/dev/null; rc=$?
check "--resume over a run with failures still exits 1 (rc $rc)" "[ $rc -eq 1 ]"
check "--resume leaves valid tables and removes a killed run's temp files" "csv_ok $T/out >&2"

# a patient table damaged after the patient finished (disk full, a partial copy): --resume
# re-scores that patient instead of trusting done.json and failing in the aggregation
f=$T/out/patients/p001/measurements.csv; head -c 300 $f > $T/cut.csv; cat $T/cut.csv > $f
timeout 50 "$BIN" run $R -o $T/out $WHOLE --resume 2>$T/res.err; rc=$?
check "--resume re-scores a patient whose table was damaged (rc $rc)" \
      "[ $rc -eq 1 ] && ! grep -q 'fields, expected' $T/res.err && csv_ok $T/out >&2 && [ \$(grep -c '^p001,' $T/out/measurements.csv) -gt 4 ]"

# OUT inside ROOT is refused (issue 16: tests/integration/reliability.sh); an output folder an
# earlier version left inside ROOT is skipped with one warning, not taken for a patient
timeout 50 "$BIN" run $T/syn -o $T/syn/OUT $WHOLE 2>/dev/null; rc1=$?
timeout 50 "$BIN" run $T/syn -o $T/out0 $WHOLE 2>/dev/null; cp -r $T/out0 $T/syn/OUT
timeout 50 "$BIN" run $T/syn -o $T/out1 $WHOLE 2>$T/in.err; rc2=$?
check "OUT inside ROOT: refused, then an old output folder in ROOT is no patient ($rc1, $rc2)" "[ $rc1 -eq 2 ] && [ $rc2 -eq 0 ]"
check "OUT inside ROOT: OUT is skipped with one warning, not a patient" \
      "[ \$(grep -c 'OUT' $T/in.err) -eq 1 ] && ! grep -q '^OUT,' $T/out1/measurements.csv"
rm -rf $T/syn/OUT $T/out0 $T/out1

# A reused OUT holds only this run's patients
mkdir -p $T/r2/q1; cp -r $T/syn/p001/* $T/r2/q1/
timeout 50 "$BIN" run $T/r2 -o $T/out $WHOLE 2>/dev/null; rc=$?
check "reused OUT: exit 0 and only this run's patient in the tables (rc $rc)" \
      "[ $rc -eq 0 ] && [ \$(tail -n +2 $T/out/measurements.csv | cut -d, -f1 | sort -u) = q1 ] && [ \$(grep -c '' $T/out/errors.csv) -eq 1 ]"

# ---- manifest: BOM, CRLF, quoted path with a comma, relative paths, duplicate, bad lines
M=$T/man; mkdir -p "$M/im g"; cp $T/syn/p001/s1/front.jpg "$M/im g/a,1.jpg"; cp $T/syn/p001/s2/front.jpg "$M/im g/b.jpg"
printf '\xef\xbb\xbfpatient,session,date,view,path\r\nP1,1,2024-01-10,front,"im g/a,1.jpg"\r\nP1,2,2024-02-09,front,im g/b.jpg\r\nP1,2,2024-02-09,front,im g/b.jpg\r\nP2,1,2024-13-01,front,im g/b.jpg\r\nP3,1,2024-01-01\r\nP4,1,,fr/ont,im g/b.jpg\r\n"P""5",1,,front,im g/b.jpg\r\n' > $M/m.csv
timeout 30 "$BIN" catalog --manifest $M/m.csv --csv >$T/mc.csv 2>$T/mc.err; rc=$?
check "manifest catalog exits 1 with bad lines (rc $rc)" "[ $rc -eq 1 ]"
check "manifest: bad date, short line and bad name quoted with their line numbers" \
      "grep -q 'm.csv:5:' $T/mc.err && grep -q 'm.csv:6:' $T/mc.err && grep -q 'm.csv:7:' $T/mc.err"
check "manifest: duplicate row reported" "grep -q 'duplicate' $T/mc.err"
check "manifest: BOM/CRLF/quoted comma parsed, days from dates" "grep -q '^P1,front,2,1,2024-02-09,30,' $T/mc.csv"
timeout 50 "$BIN" run --manifest $M/m.csv -o $T/mout $WHOLE 2>/dev/null; rc=$?
check "manifest run exits 1 and writes valid tables (rc $rc)" "[ $rc -eq 1 ] && csv_ok $T/mout >&2"
check "manifest run: catalog errors are rows of errors.csv" "grep -q 'm.csv:5,catalog,' $T/mout/errors.csv"
printf 'patient,session,date,view,path\nP1,1,2024-02-01,front,im g/b.jpg\nP1,2,2024-01-01,front,im g/b.jpg\n' > $M/order.csv
timeout 30 "$BIN" catalog --manifest $M/order.csv >/dev/null 2>$T/order.err; rc=$?
check "manifest: a follow-up dated before the baseline is a warning (rc $rc)" "[ $rc -eq 0 ] && grep -q 'days before the baseline' $T/order.err"
printf 'Patient, Session ,DATE,View,Path\nP1,1,,front,im g/b.jpg\n' > $M/hdr.csv
timeout 30 "$BIN" catalog --manifest $M/hdr.csv --csv 2>/dev/null | grep -q '^P1,front,1,0,'
check "manifest: header names match regardless of case and spaces" "[ $? -eq 0 ]"
printf 'patient;session;date;view;path\nP1;1;;front;a.jpg\n' > $M/semi.csv
timeout 30 "$BIN" catalog --manifest $M/semi.csv >/dev/null 2>$T/semi.err; rc=$?
check "manifest separated by ';': exit 2 naming the file and the found header (rc $rc)" \
      "[ $rc -eq 2 ] && grep -q 'semi.csv:1:.*found .patient;session' $T/semi.err"
printf 'patient,session,date,view,path\nP1,1,2024-99-01,front,x.jpg\nP1\n' > $M/allbad.csv
timeout 30 "$BIN" run --manifest $M/allbad.csv -o $T/abad $WHOLE 2>/dev/null; rc=$?
check "manifest with only bad lines: exit 1 and errors.csv lists them (rc $rc)" \
      "[ $rc -eq 1 ] && [ \$(grep -c catalog $T/abad/errors.csv) -eq 2 ]"

# ---- repeatability with no repeat captures: says so, exit 1
mkdir -p $T/rp/a/1 $T/rp/b/1; cp $J $T/rp/a/1/front.jpg; cp $J $T/rp/b/1/front.jpg
timeout 50 "$BIN" repeatability $T/rp -o $T/rpo $WHOLE 2>$T/rp.err; rc=$?
check "repeatability without repeat captures: exit 1 and says the table is empty (rc $rc)" \
      "[ $rc -eq 1 ] && grep -q 'repeatability.csv is empty' $T/rp.err"

# ---- OUT damaged under the run: no hang, exit 1, the problem named
mkdir -p $T/wp && touch $T/wp/patients
timeout 50 "$BIN" run $T/syn -o $T/wp $WHOLE 2>$T/wp.err; rc=$?
check "OUT/patients is a file: exit 1 without hanging, message names it (rc $rc)" "[ $rc -eq 1 ] && grep -q 'wp/patients' $T/wp.err"
mkdir -p $T/wa && touch $T/wa/aligned
timeout 50 "$BIN" run $T/syn -o $T/wa --roi whole --px-per-mm 10 --bootstrap 0 --no-report --quiet 2>/dev/null; rc=$?
check "OUT/aligned is a file: images not written are errors.csv rows and exit 1 (rc $rc)" \
      "[ $rc -eq 1 ] && grep -q ',write,' $T/wa/errors.csv && csv_ok $T/wa >&2"

# ---- OUT and option problems are usage errors (exit 2) before any work
touch $T/afile
u() {   # description, expected rc, args...
    local d=$1 want=$2; shift 2
    timeout 30 "$BIN" "$@" >/dev/null 2>$T/u.err; local rc=$?
    check "$d -> exit $want with a message (rc $rc: $(head -n 1 $T/u.err | head -c 100))" "[ $rc -eq $want ] && [ -s $T/u.err ]"
}
u "run -o FILE" 2 run $T/syn -o $T/afile $WHOLE
u "run -o FILE/sub" 2 run $T/syn -o $T/afile/sub $WHOLE
u "run -o ''" 2 run $T/syn -o '' $WHOLE
u "run --mdc missing file" 2 run $T/syn -o $T/o_mdc $WHOLE --mdc $T/nope.csv
check "run --mdc missing: OUT not created" "[ ! -e $T/o_mdc ]"
u "run --mdc is a folder" 2 run $T/syn -o $T/o_mdc $WHOLE --mdc $T/syn
u "run -o ROOT (the input folder itself)" 2 run $T/syn -o $T/syn/ $WHOLE
u "run ROOT missing" 2 run $T/nope -o $T/o2 $WHOLE
u "run ROOT is a file" 2 run $T/afile -o $T/o2 $WHOLE
u "catalog --manifest missing" 2 catalog --manifest $T/nope.csv
u "catalog --manifest folder" 2 catalog --manifest $T/syn
for a in "--jobs 0" "--jobs x" "--shard 2/2" "--shard 1/2x" "--roi nose" "--bootstrap 1" "--photometry grey" \
         "--motion warp" "--iod nan" "--px-per-mm -1" "--cpu z80" "--bogus" "--jobs"; do
    u "run $a" 2 run $T/syn -o $T/o3 --quiet $a
done
u "compare with one image" 2 compare $J -o $T/o4
u "landmarks --input-size 33" 2 landmarks $J --input-size 33
u "align --motion warp" 2 align $J $J -o $T/o5 --motion warp
u "merge without -o" 2 merge $T/out
u "merge OUT into itself" 2 merge $T/out -o $T/out
u "synth --size 10" 2 synth -o $T/o6 --size 10
u "report of a non-run folder" 2 report $T/syn
u "unknown command" 2 frobnicate

itest_end
