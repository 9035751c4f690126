#!/bin/sh
# The layer rules of src/ hold (tests/includes.sh: no upward include, no include circle
# between modules), and the checker catches both when they are planted in a copy.
set -u
T=tests/tmp/t_includes.$$
rm -rf "$T" && mkdir -p "$T" || exit 1
. tests/lib.sh

tests/includes.sh > "$T/out" 2>&1; rc=$?
check "src/ has no upward include and no include circle" '[ $rc -eq 0 ] && grep -q "^ok:" $T/out'
[ $rc -eq 0 ] || sed 's/^/    /' "$T/out" | grep "NOT OK" | head -5

cp -r src include "$T/"
echo '#include "proxies/proxy.h"' >> "$T/src/engine/optim.c"
tests/includes.sh "$T" > "$T/up" 2>&1; rc=$?
check "a planted upward include (engine -> proxies) fails" \
    '[ $rc -eq 1 ] && grep -q "NOT OK src/engine/optim.c: upward include of proxies/proxy.h" $T/up'

rm -rf "$T/src" "$T/include" && cp -r src include "$T/"
echo '#include "engine/net.h"' >> "$T/src/engine/layers.c"
tests/includes.sh "$T" > "$T/circle" 2>&1; rc=$?
check "a planted circle (layers.c -> net.h -> layers.h) fails" \
    '[ $rc -eq 1 ] && grep -q "NOT OK include circle between modules: engine/layers <-> engine/net" $T/circle'
rm -rf "$T"
finish
