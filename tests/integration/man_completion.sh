#!/usr/bin/env bash
# The man page (docs/skindelta.1) and the bash completion (contrib/completion/skindelta.bash):
# every command and every option the program's --help lists is in the page (regenerate it with
# tools/gen-man.py when an option changes), `make install` puts both where man and bash look,
# and the completion, sourced, completes commands, each command's own options and choice values.
ITEST_NAME=mancomp; . "$(dirname "$0")/../lib/itest.sh"
MAN=docs/skindelta.1
COMP=contrib/completion/skindelta.bash

cmds=$("$BIN" --help | awk '/^commands:/{on=1;next} on&&/^  [a-z]/{print $1} on&&/^$/{exit}')
cmds=$(echo $cmds)
opts_of() { sed -n '/^options:/,/^$/p' | grep -oE -- '^  (-[a-zA-Z], )?--[a-z][a-z0-9-]*|^      --[a-z][a-z0-9-]*' | grep -oE -- '--.*'; }
check "the command list is read ($cmds)" "[ $(echo $cmds | wc -w) -ge 12 ]"

# ---- man page: roff hyphens are written \-, so compare with them undone
sed 's/\\-/-/g; s/\\f[BIR]//g' $MAN > $T/man.txt 2>/dev/null
check "docs/skindelta.1 is a man page" "[ -s $T/man.txt ] && head -n 3 $MAN | grep -q '^.TH SKINDELTA 1'"
missing=""
nopts=0
for c in $cmds; do
    grep -q "^.SS \"skindelta $c\"" $MAN || missing="$missing $c"
    # the command's section: from its .SS line to the next
    awk -v c="skindelta $c" '/^\.SS /{on = index($0, "\"" c "\"") > 0; next} on' $MAN | sed 's/\\-/-/g; s/\\f[BIR]//g' > $T/sec.txt
    for o in $("$BIN" $c --help | opts_of); do
        nopts=$((nopts + 1))
        grep -qE -- "(^|[ ,])$o( |,|\$)" $T/sec.txt || missing="$missing $c:$o"
    done
done
check "every command and each of its $nopts options is in its man page section${missing:+ (missing:$missing)}" \
      "[ -z '$missing' ] && [ $nopts -ge 100 ]"
check "the page documents --opt=value and the exit codes" "grep -q -- '--opt=value' $T/man.txt && grep -q '^.SH EXIT STATUS' $MAN"
if command -v python3 >/dev/null; then
    python3 tools/gen-man.py "$BIN" > $T/regen.1 2>$T/regen.err; rc=$?
    check "tools/gen-man.py regenerates the committed page unchanged (rc $rc)" "[ $rc -eq 0 ] && cmp -s $T/regen.1 $MAN"
else
    bad "tools/gen-man.py regenerates the committed page" "python3 missing"
fi

# ---- make install puts the page and the completion in place
B=${BUILD:-build}
make -s --no-print-directory install BUILD="$B" PREFIX=/usr DESTDIR="$T/stage" > $T/install.log 2>&1; rc=$?
check "make install writes share/man/man1/skindelta.1 and the bash completion (rc $rc)" \
      "[ $rc -eq 0 ] && cmp -s $T/stage/usr/share/man/man1/skindelta.1 $MAN && cmp -s $T/stage/usr/share/bash-completion/completions/skindelta $COMP"
if command -v man >/dev/null; then
    MANPATH=$T/stage/usr/share/man man skindelta 2>/dev/null | col -b > $T/rendered.txt
    check "man skindelta finds the installed page" "grep -q 'skindelta merge' $T/rendered.txt && grep -q -- '--px-per-mm' $T/rendered.txt"
fi

# ---- completion, sourced into a bash that simulates the words typed so far
complete_words() {   # cword words... -> the candidates, one line
    local cw=$1; shift
    bash -c '. "$1"; shift; cw=$1; shift; COMP_WORDS=("$@"); COMP_CWORD=$cw; _skindelta; echo "${COMPREPLY[*]}"' \
        _ "$COMP" "$cw" "$@"
}
bash -c ". $COMP && complete -p skindelta" > $T/complete.txt 2>&1; rc=$?
check "sourcing registers the completion (rc $rc: $(cat $T/complete.txt))" "[ $rc -eq 0 ] && grep -q -- '-F _skindelta skindelta' $T/complete.txt"
got=$(complete_words 1 "$BIN" "")
check "completes the commands ($got)" "[ \"$(echo $got | tr ' ' '\n' | grep -v '^--' | sort | tr '\n' ' ')\" = \"$(echo $cmds | tr ' ' '\n' | sort | tr '\n' ' ')\" ]"
check "completes a command's prefix" "[ \"$(complete_words 1 "$BIN" rep)\" = 'repeatability report' ]"
got=$(complete_words 2 "$BIN" run --)
check "run -- completes run's options" "echo ' $got ' | grep -q ' --jobs ' && echo ' $got ' | grep -q ' --shard ' && echo ' $got ' | grep -q ' --resume '"
check "run --j completes to --jobs" "[ \"$(complete_words 2 "$BIN" run --j)\" = '--jobs' ]"
check "compare -- offers no batch option" "got=\$(complete_words 2 '$BIN' compare --); [ -n \"\$got\" ] && ! echo \" \$got \" | grep -q ' --jobs '"
check "compare --save completes to --save-aligned" "[ \"$(complete_words 2 "$BIN" compare --save)\" = '--save-aligned' ]"
check "--cpu completes its levels" "[ \"$(complete_words 3 "$BIN" run --cpu '')\" = 'scalar avx2 avx512' ]"
check "--roi=w completes to whole" "[ \"$(complete_words 4 "$BIN" run --roi = w)\" = 'whole' ]"
unsynced=""
for c in $cmds; do
    want=$("$BIN" $c --help | opts_of | sort | tr '\n' ' ')
    have=$(complete_words 2 "$BIN" $c -- | tr ' ' '\n' | sort | tr '\n' ' ')
    [ "$want" = "$have" ] || unsynced="$unsynced $c"
done
check "every command: the completion offers exactly the options of its --help${unsynced:+ (differ:$unsynced)}" "[ -z '$unsynced' ]"

itest_end
