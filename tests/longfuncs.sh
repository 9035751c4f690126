#!/bin/sh
# Functions of src/ longer than N lines (default 120), longest first: "lines file:line name".
# A function starts at a column-0 line "type name(" whose signature (on that line or the
# next ones) ends with "{", and ends at the next "}" in column 0.
# usage: tests/longfuncs.sh [N [FILES...]]   (files default to src/*/*.c)
n=${1:-120}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] || set -- "$(dirname "$0")"/../src/*/*.c
awk -v min="$n" '
FNR == 1 { infn = 0; cand = 0 }
infn && /^\}/ {
    len = FNR - start + 1
    if (len > min) { f = FILENAME; sub(/.*\/src\//, "src/", f); print len, f ":" start, name }
    infn = 0; next
}
infn { next }
/^[A-Za-z_][^;=]*\(/ && !/^(typedef|struct|enum|#)/ {
    cand = 1; start = FNR; name = $0; sub(/\(.*/, "", name); sub(/.*[ *]/, "", name)
}
cand && /;[ \t]*(\/\*.*)?$/ { cand = 0 }
cand && /\{[ \t]*$/ { infn = 1; cand = 0 }' "$@" | sort -rn
