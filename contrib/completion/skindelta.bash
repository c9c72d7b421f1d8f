# bash completion for skindelta: the commands, each command's options, the values of the options
# that take a fixed set, and file names. Commands and options are read from the program's own
# --help (generated from its option tables), so they are always those of the skindelta that runs.
# Installed by `make install` to share/bash-completion/completions/skindelta; or source this file.

_skindelta_options()   # program command -> the options of the command's help
{
    "$1" "$2" --help 2>/dev/null | sed -n '/^options:/,/^$/p' |
        grep -oE -- '^  (-[a-zA-Z], )?--[a-z0-9-]+|^      --[a-z0-9-]+' | grep -oE -- '--[a-z0-9-]+'
}

_skindelta()
{
    local prog=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]} prev= cmd=${COMP_WORDS[1]:-}
    [ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD - 1]}
    # "--roi=wh": bash splits the word at '=' (COMP_WORDBREAKS), so the option is two words back
    if [ "$prev" = "=" ] && [ "$COMP_CWORD" -gt 1 ]; then
        prev=${COMP_WORDS[COMP_CWORD - 2]}
    fi
    COMPREPLY=()
    if [ "$COMP_CWORD" -le 1 ]; then
        local cmds
        cmds=$("$prog" --help 2>/dev/null | awk '/^commands:/ {on = 1; next} on && /^  [a-z]/ {print $1} on && /^$/ {exit}')
        COMPREPLY=($(compgen -W "$cmds --help --version" -- "$cur"))
        return 0
    fi
    local values=
    case $prev in
        --cpu)        values="scalar avx2 avx512" ;;
        --roi)        values="face whole" ;;
        --motion)     values="translation euclidean affine homography" ;;
        --photometry) values="none reference chart" ;;
        --kind)       values="patch face" ;;
    esac
    if [ -n "$values" ]; then
        COMPREPLY=($(compgen -W "$values" -- "$cur"))
        return 0
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_skindelta_options "$prog" "$cmd")" -- "$cur"))
        return 0
    fi
    COMPREPLY=($(compgen -f -- "$cur"))
    return 0
}

complete -o filenames -o bashdefault -F _skindelta skindelta
