#!/usr/bin/env bash
# The HTML report in a real browser: builds a fake run folder (CSV files + aligned images, one
# image missing, a hostile patient id), runs `skindelta report`, loads index.html and a patient
# page from file:// in headless Chromium (Debian's chromium) and fails on console errors, images
# that do not load or references outside report/. Saves screenshots under $BUILD/.
# Without /usr/bin/chromium it reports itself skipped ("0 passed, 0 failed, 1 skipped"): counted
# as a skip by tests/run.sh, a failure under CI=1; `make test` installs chromium when it can
# (tools/test-deps.sh).
set -u
BIN=${SKINDELTA_BIN:-build/skindelta}
BUILD=${BUILD:-$(dirname "$BIN")}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
pass=0; fail=0
ok()  { echo "ok $1"; pass=$((pass + 1)); }
bad() { echo "not ok $1${2:+: $2}"; fail=$((fail + 1)); }

if [ ! -x "$CHROMIUM" ]; then
    echo "skip: $CHROMIUM not installed (apt-get install chromium); report browser test not run"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi
if [ ! -x "$BIN" ]; then
    echo "not ok setup: $BIN missing"; echo "0 passed, 1 failed, 0 skipped"; exit 1
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sd_report_chromium.XXXXXX")
[ -n "${SD_KEEP_TMP:-}" ] || trap 'rm -rf "$TMP"' EXIT   # SD_KEEP_TMP=1 keeps the run folder
OUT=$TMP/out
FACE=tests/data/face

# ---- a fake run: 3 patients x 3 sessions, 13 regions, 4 metrics
make_run() {
    local out=$1
    mkdir -p "$out"
    awk -v out="$out" 'BEGIN {
        srand(7); OFS = ","
        np = split("P01,P02,<script>", pat, ",")
        nr = split("face,forehead,glabella,crowsfeet_l,crowsfeet_r,undereye_l,undereye_r,cheek_l,cheek_r,nasolabial_l,nasolabial_r,perioral,chin", reg, ",")
        nm = split("texture_roughness,wrinkle_density,pigment_unevenness,pigment_spot_area", met, ",")
        split("%,%,OD x100,%", unit, ",")
        split("2.4,3.1,5.2,1.8", base, ",")
        split("0.06,0.09,0.04,0.0", eff, ",")
        days[0] = 0; days[1] = 30; days[2] = 90
        M = out "/measurements.csv"; C = out "/changes.csv"; K = out "/cohort.csv"
        T = out "/trends.csv"; A = out "/alignment.csv"
        print "patient,view,session,session_index,days,region,metric,value,unit,better,qc" > M
        print "patient,view,session,session_index,days,region,metric,baseline,value,delta,pct_change,improvement_pct,mdc95,beyond_noise" > C
        print "view,session_index,region,metric,n,mean_delta,sd_delta,ci95_low,ci95_high,t_p,wilcoxon_p,holm_p,cohens_dz,responders_pct,mean_pct_change,mean_improvement_pct" > K
        print "patient,view,region,metric,n_sessions,slope,slope_unit,ci95_low,ci95_high" > T
        print "patient,view,session,face_score,landmark_rms_px,ecc,a11,a12,tx,a21,a22,ty,status" > A
        for (p = 1; p <= np; p++) for (s = 0; s <= 2; s++) {
            failed = (pat[p] == "P02" && s == 2)
            st = failed ? "failed" : (pat[p] == "P01" && s == 1 ? "flagged" : "ok")
            q = pat[p]; if (q ~ /[,"]/) q = "\"" q "\""
            print q, "front", "s" s, 0.97 - 0.01 * s, failed ? "" : 0.8 + s * 0.3, failed ? "" : 0.93 - 0.01 * s, \
                  1.02, 0.01, -3.5, -0.01, 1.02, 2.25, st > A
            if (failed) continue
            for (r = 1; r <= nr; r++) for (m = 1; m <= nm; m++) {
                b = base[m] * (1 + 0.2 * (rand() - 0.5))
                if (s == 0) v0[p, r, m] = b
                v = v0[p, r, m] * (1 - eff[m] * s * (r % 3 ? 1 : -0.3)) * (1 + 0.03 * (rand() - 0.5))
                if (s == 0) v = v0[p, r, m]
                val[p, s, r, m] = v
                print q, "front", "s" s, s, days[s], reg[r], met[m], v, unit[m], "lower", "ok" > M
                if (s == 0) continue
                d = v - v0[p, r, m]; pc = 100 * d / v0[p, r, m]; mdc = 0.05 * v0[p, r, m]
                print q, "front", "s" s, s, days[s], reg[r], met[m], v0[p, r, m], v, d, pc, -pc, mdc, (d < -mdc || d > mdc) ? 1 : 0 > C
                sd[s, r, m] += d; ss[s, r, m] += d * d; n[s, r, m]++; ip[s, r, m] += -pc
                resp[s, r, m] += (d < -mdc)
            }
        }
        ntest = nr * nm
        for (s = 1; s <= 2; s++) for (r = 1; r <= nr; r++) for (m = 1; m <= nm; m++) {
            k = n[s, r, m]; mu = sd[s, r, m] / k; var = (ss[s, r, m] - k * mu * mu) / (k - 1)
            sdv = sqrt(var > 0 ? var : 1e-12); h = 4.303 * sdv / sqrt(k); t = mu / (sdv / sqrt(k))
            tp = exp(-0.35 * (t < 0 ? -t : t)); hp = tp * ntest; if (hp > 1) hp = 1
            print "front", s, reg[r], met[m], k, mu, sdv, mu - h, mu + h, tp, 0.25, hp, mu / sdv, 100 * resp[s, r, m] / k, -ip[s, r, m] / k, ip[s, r, m] / k > K
        }
        for (p = 1; p <= np; p++) for (r = 1; r <= nr; r++) for (m = 1; m <= nm; m++) {
            q = pat[p]; if (q ~ /[,"]/) q = "\"" q "\""
            last = (pat[p] == "P02") ? 1 : 2
            sl = (val[p, last, r, m] - val[p, 0, r, m]) / days[last] * 30
            print q, "front", reg[r], met[m], last + 1, sl, "per_30_days", sl - 0.02, sl + 0.02 > T
        }
    }'
    printf 'path,stage,code,message\n' > "$out/errors.csv"
    printf '%s\n' 'root/P02/s2/front.jpg,load,EFORMAT,"decoding failed (corrupt or truncated data) <img src=x onerror=alert(1)>"' >> "$out/errors.csv"
    printf '{"version": "0.1.0", "git_revision": "test", "cpu": "avx2"}\n' > "$out/run.json"
    for p in P01 P02 '<script>'; do
        mkdir -p "$out/aligned/$p"
        for s in 0 1 2; do
            [ "$p" = P02 ] && [ $s = 2 ] && continue
            src=$FACE/astronaut.png; [ $s -gt 0 ] && src=$FACE/astronaut_moved.png
            cp "$src" "$out/aligned/$p/front_s$s.png"
            cp "$FACE/astronaut_moved.png" "$out/aligned/$p/front_s${s}_regions.png"
            [ "$p" = P01 ] && [ $s = 1 ] || cp "$FACE/astronaut.png" "$out/aligned/$p/front_s${s}_wrinkles.png"
            cp "$FACE/astronaut.png" "$out/aligned/$p/front_s${s}_spots.png"
        done
    done
}

# Every src= and href= of a page (from Chromium's DOM) names an existing file inside report/.
check_refs() {   # dom_file report_dir label
    local dom=$1 dir=$2 label=$3 n=0 badref=""
    while IFS= read -r ref; do
        n=$((n + 1))
        case "$ref" in
            \#*) continue ;;
            *://*|//*|/*|*..*) badref="$badref $ref"; continue ;;
        esac
        [ -f "$dir/${ref%%#*}" ] || badref="$badref $ref"
    done < <(grep -oE '(src|href)="[^"]*"' "$dom" | sed -E 's/^(src|href)="//; s/"$//' | sed 's/&amp;/\&/g')
    if [ -n "$badref" ]; then bad "$label references" "missing or outside report/:$badref"
    elif [ "$n" -eq 0 ]; then bad "$label references" "no src/href found in the DOM"
    else ok "$label references ($n src/href, all inside report/)"; fi
}

# Headless Chromium: DOM dump + console log for one page.
load_page() {   # html_file tag -> $TMP/tag.dom, $TMP/tag.log
    local prof; prof=$(mktemp -d "$TMP/prof.XXXXXX")
    timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$prof" --enable-logging=stderr --v=0 --virtual-time-budget=3000 \
        --dump-dom "file://$1" > "$TMP/$2.dom" 2> "$TMP/$2.log"
}

console_errors() {   # log -> lines that are page errors (console errors, failed loads)
    grep -E 'CONSOLE|Failed to load resource|ERR_FILE_NOT_FOUND|Uncaught' "$1" | \
        grep -vE 'Fontconfig|dbus' || true
}

screenshot() {   # html_file png
    local prof; prof=$(mktemp -d "$TMP/prof.XXXXXX")
    timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$prof" --hide-scrollbars --window-size=1400,2000 \
        --virtual-time-budget=3000 --screenshot="$2" "file://$1" > /dev/null 2>&1
}

# CLI contract: --help 0, usage errors and non-run folders 2.
"$BIN" report --help > "$TMP/help.out" 2>&1; rc_help=$?
"$BIN" report > /dev/null 2>&1; rc_none=$?
mkdir -p "$TMP/empty"; "$BIN" report "$TMP/empty" > /dev/null 2>&1; rc_empty=$?
if [ $rc_help = 0 ] && grep -q 'usage: skindelta report OUT' "$TMP/help.out" && [ $rc_none = 2 ] && [ $rc_empty = 2 ]; then
    ok "report CLI exit codes (help 0, usage 2, not a run folder 2)"
else
    bad "report CLI exit codes" "help=$rc_help none=$rc_none empty=$rc_empty"
fi

make_run "$OUT"
if "$BIN" report "$OUT" > "$TMP/report.out" 2> "$TMP/report.err"; then
    ok "skindelta report exit 0"
else
    bad "skindelta report" "$(cat "$TMP/report.err")"
fi
REP=$(cd "$OUT/report" 2>/dev/null && pwd)
PAGE=$(grep -l 'Patient P02' "$REP"/*.html 2>/dev/null | head -n 1)
HOSTILE=$(grep -l 'Patient &lt;script&gt;' "$REP"/*.html 2>/dev/null | head -n 1)
if [ -f "$REP/index.html" ] && [ -n "$PAGE" ] && [ -n "$HOSTILE" ]; then
    ok "index.html and patient pages written"
else
    bad "pages written" "index=$REP/index.html P02=$PAGE hostile=$HOSTILE"
fi

for pg in index:"$REP/index.html" patient:"$PAGE" hostile:"$HOSTILE"; do
    tag=${pg%%:*}; file=${pg#*:}
    [ -f "$file" ] || continue
    load_page "$file" "$tag"
    if [ ! -s "$TMP/$tag.dom" ] || ! grep -q '</html>' "$TMP/$tag.dom"; then
        bad "$tag page loads in Chromium" "empty DOM; log: $(tail -n 3 "$TMP/$tag.log")"
        continue
    fi
    ok "$tag page loads in Chromium"
    errs=$(console_errors "$TMP/$tag.log")
    if [ -n "$errs" ]; then bad "$tag page console" "$errs"; else ok "$tag page: no console errors"; fi
    check_refs "$TMP/$tag.dom" "$REP" "$tag page"
    if grep -qiE '<script[ >]' "$TMP/$tag.dom"; then bad "$tag page has no script element"
    else ok "$tag page has no script element"; fi
done

# The missing image is shown as missing (not as a broken <img>).
if grep -q 'aligned/P02/front_s2.jpg' "$TMP/patient.dom" 2>/dev/null; then ok "missing image named on the page"
else bad "missing image named on the page"; fi

# Negative control: the checks must catch a broken page.
mkdir -p "$TMP/neg"
printf '<!DOCTYPE html><html><body><img src="nope.jpg"><script>console.error("boom")</script></body></html>\n' > "$TMP/neg/index.html"
load_page "$TMP/neg/index.html" neg
neg_err=$(console_errors "$TMP/neg.log")
if [ -n "$neg_err" ] && check_refs "$TMP/neg.dom" "$TMP/neg" "negative control" 2>&1 | grep -q 'not ok'; then
    ok "negative control: console error and missing image are detected"
else
    bad "negative control" "checks did not catch a broken page"
fi

# ---- the real pipeline: a face course (astronaut, moved follow-up, a second patient) scored by
# `skindelta run`, then the same browser checks on its report.
RIN=$TMP/real_in; ROUT=$TMP/real_out
mkdir -p "$RIN/A1/s1" "$RIN/A1/s2" "$RIN/B2/s1" "$RIN/B2/s2"
cp "$FACE/astronaut.png" "$RIN/A1/s1/front.png"; cp "$FACE/astronaut_moved.png" "$RIN/A1/s2/front.png"
cp "$FACE/astronaut_moved.png" "$RIN/B2/s1/front.png"; cp "$FACE/astronaut.png" "$RIN/B2/s2/front.png"
"$BIN" run "$RIN" -o "$ROUT" --iod 160 --bootstrap 2 --quiet > "$TMP/real.out" 2>&1; rc_real=$?
RREP=$(cd "$ROUT/report" 2>/dev/null && pwd)
if [ $rc_real = 0 ] && [ -f "$RREP/index.html" ] && [ -f "$RREP/A1.html" ]; then
    ok "real run: skindelta run wrote the report"
    for pg in real_index:"$RREP/index.html" real_patient:"$RREP/A1.html"; do
        tag=${pg%%:*}; file=${pg#*:}
        load_page "$file" "$tag"
        if [ -s "$TMP/$tag.dom" ] && grep -q '</html>' "$TMP/$tag.dom"; then ok "$tag page loads in Chromium"
        else bad "$tag page loads in Chromium"; continue; fi
        errs=$(console_errors "$TMP/$tag.log")
        if [ -n "$errs" ]; then bad "$tag page console" "$errs"; else ok "$tag page: no console errors"; fi
        check_refs "$TMP/$tag.dom" "$RREP" "$tag page"
    done
    if [ "$(grep -c '<img' "$TMP/real_patient.dom")" -ge 4 ]; then ok "real patient page shows the aligned photos and maps"
    else bad "real patient page shows the aligned photos and maps"; fi
    mkdir -p "$BUILD"
    screenshot "$RREP/index.html" "$BUILD/report_real_index.png"
    screenshot "$RREP/A1.html" "$BUILD/report_real_patient.png"
else
    bad "real run: skindelta run wrote the report" "exit $rc_real: $(tail -n 3 "$TMP/real.out")"
fi

mkdir -p "$BUILD"
screenshot "$REP/index.html" "$BUILD/report_index.png"
screenshot "$PAGE" "$BUILD/report_patient.png"
if [ -s "$BUILD/report_index.png" ] && [ -s "$BUILD/report_patient.png" ]; then
    ok "screenshots $BUILD/report_index.png $BUILD/report_patient.png"
else
    bad "screenshots"
fi
echo "$pass passed, $fail failed, 0 skipped"
[ "$fail" = 0 ]
