#!/usr/bin/env bash
# The one option parser of every command (src/cli/opts.c): `--opt=value` reads as `--opt value`
# (same outputs), an unknown option exits 2 naming the command's --help, every command's --help
# exits 0 with no printf residue ('%%'), lists only its own options, and shared options are
# checked with the same words everywhere.
ITEST_NAME=cliopts; . "$(dirname "$0")/../lib/itest.sh"

cmds=$("$BIN" --help | awk '/^commands:/{on=1;next} on&&/^  [a-z]/{print $1} on&&/^$/{exit}')
cmds=$(echo $cmds)
check "the command list is read from skindelta --help ($cmds)" \
      "[ $(echo $cmds | wc -w) -ge 10 ] && echo ' $cmds ' | grep -q ' run ' && echo ' $cmds ' | grep -q ' compare '"
"$BIN" --version > $T/version.txt; rc=$?
check "skindelta --version (rc $rc)" "[ $rc -eq 0 ] && grep -q '^skindelta [0-9]' $T/version.txt"

for c in $cmds; do
    "$BIN" $c --help > $T/help_$c.txt 2>$T/help_$c.err; rc=$?
    check "$c --help exits 0 on stdout, with an options list (rc $rc)" \
          "[ $rc -eq 0 ] && [ ! -s $T/help_$c.err ] && grep -q '^usage: skindelta $c' $T/help_$c.txt && grep -q -- '--help' $T/help_$c.txt"
    check "$c --help holds no '%%'" "! grep -q '%%' $T/help_$c.txt"
    "$BIN" $c --version > $T/ver_$c.txt; rc=$?
    check "$c --version prints what skindelta --version prints (rc $rc)" "[ $rc -eq 0 ] && cmp -s $T/ver_$c.txt $T/version.txt"
    "$BIN" $c --frobnicate-x >/dev/null 2>$T/unk_$c.err; rc=$?
    check "$c --frobnicate-x: exit 2, one line naming the option and '$c --help' (rc $rc)" \
          "[ $rc -eq 2 ] && [ \$(wc -l < $T/unk_$c.err) -eq 1 ] && grep -qF \"skindelta $c: unknown option '--frobnicate-x'; try 'skindelta $c --help'\" $T/unk_$c.err"
done
"$BIN" help compare > $T/help_compare2.txt; rc=$?
check "skindelta help compare = compare --help (rc $rc)" "[ $rc -eq 0 ] && cmp -s $T/help_compare2.txt $T/help_compare.txt"

# each command lists its own options only
check "run --help lists the batch options" \
      "grep -q -- '--jobs' $T/help_run.txt && grep -q -- '--shard' $T/help_run.txt && grep -q 'finished patients are kept' $T/help_run.txt"
check "compare --help lists no batch option" \
      "! grep -q -- '--jobs\|--shard\|--resume\|--manifest\|--mdc' $T/help_compare.txt && ! grep -q 'finished patients' $T/help_compare.txt"
check "repeatability --help lists no shard or resume option" \
      "! grep -q -- '--shard\|--resume\|--no-recapture' $T/help_repeatability.txt && grep -q -- '--jobs' $T/help_repeatability.txt"
"$BIN" compare a.png b.png -o $T/never --jobs 2 2>$T/cj.err; rc=$?
check "compare --jobs is refused as unknown (rc $rc)" "[ $rc -eq 2 ] && grep -q \"unknown option '--jobs'\" $T/cj.err && [ ! -e $T/never ]"
# every option of a help's options list is known to that command (probed as --opt=1 --help, so
# nothing runs: a flag says it takes no value, an option with a value shows the help or refuses 1)
opts_of() { sed -n '/^options:/,/^$/p' "$1" | grep -oE -- '^  (-[a-zA-Z], )?--[a-z][a-z0-9-]*|^      --[a-z][a-z0-9-]*' | grep -o -- '--.*'; }
for c in $cmds; do
    bad=""
    n=0
    for o in $(opts_of $T/help_$c.txt); do
        n=$((n + 1))
        "$BIN" $c $o=1 --help >/dev/null 2>$T/probe.err
        grep -q "unknown option" $T/probe.err && bad="$bad $o"
    done
    check "$c: each of the $n options in its --help is known to it${bad:+ (unknown:$bad)}" "[ $n -ge 2 ] && [ -z '$bad' ]"
done

# shared options: the same check and the same words in every command that has them
msg() { "$BIN" "$@" 2>&1 >/dev/null | sed 's/^skindelta [a-z]*: //; s/skindelta [a-z]* --help//'; }
check "--cpu z80: same message from run, align, landmarks" \
      "[ \"\$(msg run x -o $T/n --cpu z80)\" = \"\$(msg align x y -o $T/n --cpu z80)\" ] && [ \"\$(msg run x -o $T/n --cpu z80)\" = \"\$(msg landmarks x --cpu z80)\" ] && msg run x -o $T/n --cpu z80 | grep -q 'scalar, avx2 or avx512'"
check "--iod 10: same message from run and align" \
      "[ \"\$(msg run x -o $T/n --iod 10)\" = \"\$(msg align x y -o $T/n --iod 10)\" ] && msg run x -o $T/n --iod 10 | grep -q \"not '10'\""
check "--motion warp: same message from compare and align" \
      "[ \"\$(msg compare x y -o $T/n --motion warp)\" = \"\$(msg align x y -o $T/n --motion warp)\" ]"
for a in "--jobs=0" "--jobs 0" "--jobs" "--quiet=1" "--shard 1/2x" "--bootstrap 1" "-o ''"; do
    eval "\"$BIN\" run $T/none $a" >/dev/null 2>$T/e.err; rc=$?
    check "run $a: exit 2, one line naming --help (rc $rc: $(head -c 90 $T/e.err))" \
          "[ $rc -eq 2 ] && [ \$(wc -l < $T/e.err) -eq 1 ] && grep -q \"try 'skindelta run --help'\" $T/e.err"
done
check "a missing value is said so" "msg run $T/none --jobs | grep -q -- '--jobs needs a value'"
check "an out-of-range value names the range and the value" "msg run $T/none -o $T/n --jobs=300 | grep -q \"1..256, not '300'\""

# --opt=value reads as --opt value: the same phantom course, the same scores
"$BIN" synth -o $T/in --size 160 --patients 2 --sessions 2 --seed 5 >/dev/null; rc1=$?
"$BIN" synth --out=$T/in2 --size=160 --patients=2 --sessions=2 --seed=5 >/dev/null; rc2=$?
check "synth with --opt=value writes the same course (rc $rc1 $rc2)" \
      "[ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && cmp -s $T/in/truth.json $T/in2/truth.json && cmp -s $T/in/p002/s2/front.jpg $T/in2/p002/s2/front.jpg"
"$BIN" run $T/in -o $T/a --roi whole --px-per-mm 10 --bootstrap 2 --jobs 1 --no-images --no-report --quiet; rc1=$?
"$BIN" run --quiet --roi=whole $T/in --px-per-mm=10 --bootstrap=2 --out=$T/b -j1 --no-images --no-report; rc2=$?
same=1
for f in measurements.csv uncertainty.csv changes.csv cohort.csv trends.csv alignment.csv; do
    cmp -s $T/a/$f $T/b/$f || same=0
done
check "run with --opt=value, options in another order: byte-identical tables (rc $rc1 $rc2)" \
      "[ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && [ $same -eq 1 ] && [ \$(grep -c , $T/a/measurements.csv) -gt 10 ]"
check "run.json keeps the command line as typed" "grep -q 'skindelta run --quiet --roi=whole' $T/b/run.json"
"$BIN" run $T/in -o $T/c --roi whole --px-per-mm 10 --bootstrap 2 --jobs 1 --no-images --no-report --quiet --motion=translation; rc=$?
check "a different value changes the result (the check above can fail; rc $rc)" \
      "[ $rc -eq 0 ] && ! cmp -s $T/a/alignment.csv $T/c/alignment.csv"
"$BIN" catalog -- $T/in > $T/cat1.txt; rc1=$?
"$BIN" catalog $T/in > $T/cat2.txt; rc2=$?
check "-- ends the options (rc $rc1 $rc2)" "[ $rc1 -eq 0 ] && cmp -s $T/cat1.txt $T/cat2.txt"

itest_end
