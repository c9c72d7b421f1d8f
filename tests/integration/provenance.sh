#!/usr/bin/env bash
# run.json records where a result came from: the versions of libvips, OpenBLAS and libjpeg-turbo,
# the OS, compiler and CPU model, and the input folder and every input photo as absolute paths
# (the run below is given a relative ROOT).
ITEST_NAME=provenance; . "$(dirname "$0")/../lib/itest.sh"

"$BIN" synth -o $T/in --size 160 --patients 2 --sessions 2 --seed 4 >/dev/null
ROOT=$(realpath --relative-to=. $T/in)
"$BIN" run $ROOT -o $T/out --roi whole --px-per-mm 10 --bootstrap 0 --no-images --no-report --quiet 2>/dev/null; rc=$?
check "a run from a relative ROOT ($ROOT, rc $rc)" "[ $rc -eq 0 ] && [ -s $T/out/run.json ] && [ \"\${ROOT#/}\" = \"$ROOT\" ]"
if ! command -v python3 >/dev/null; then
    bad "run.json provenance" "python3 is needed to read run.json"
    itest_end; exit
fi
py() { python3 -c "import json, os, sys; d = json.load(open('$T/out/run.json')); $1"; }
check "run.json is JSON with an environment object" "py 'sys.exit(not isinstance(d[\"environment\"], dict))'"
for k in os os_release cpu_model compiler libvips openblas libjpeg_turbo_headers libjpeg_loaded; do
    v=$(py "print(d['environment'].get('$k'))" 2>/dev/null)
    check "environment.$k is recorded ($v)" "[ -n '$v' ] && [ '$v' != None ]"
done
check "libvips is the version the program runs with" "[ \"\$(py 'print(d[\"environment\"][\"libvips\"])')\" = \"\$(pkg-config --modversion vips)\" ]"
check "openblas names OpenBLAS and its version" "py 'print(d[\"environment\"][\"openblas\"])' | grep -q '^OpenBLAS [0-9]'"
check "libjpeg-turbo version is X.Y.Z" "py 'print(d[\"environment\"][\"libjpeg_turbo_headers\"])' | grep -qE '^[0-9]+\.[0-9]+\.[0-9]+\$'"
check "compiler and OS" "py 'e = d[\"environment\"]; print(e[\"compiler\"], e[\"os\"])' | grep -qE '^(gcc|clang) .*Linux'"
check "input stays as given, input_absolute is the folder's absolute path" \
      "py 'print(d[\"input\"]); print(d[\"input_absolute\"])' | diff - <(printf '%s\n%s\n' '$ROOT' \"\$(realpath $T/in)\") >/dev/null"
check "every input photo has an absolute path that exists and names the same file" \
      "py 'sys.exit(not (len(d[\"inputs\"]) == 4 and all(os.path.isabs(i[\"absolute_path\"]) and os.path.samefile(i[\"absolute_path\"], i[\"path\"]) for i in d[\"inputs\"])))'"

itest_end
