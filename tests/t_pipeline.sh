#!/bin/sh
# t_pipeline.sh — parallel scoring gives the same ranked stream as one process, with
# xargs -P, GNU parallel, parallel -S : and a fake remote host (rsync through a stand-in
# ssh); and pipelines/search.sh runs end to end on a tiny budget.
set -u
. tests/lib.sh
t=$(mktemp -d tests/tmp/pipeline.XXXXXX)
trap 'rm -rf "$t"' EXIT
for tool in parallel rsync; do
    command -v $tool >/dev/null || { echo "NOT OK $tool is not installed (.ci/run installs it)"; exit 1; }
done

warmup-supernet --fraction 0 -q -o "$t/sn.ckpt" || fail "warm-up"
sample-arch -n 13 --seed 4 > "$t/in.mp"
score-sigeo --supernet "$t/sn.ckpt" -q --proxies sigeo,params,zico < "$t/in.mp" |
    rank --by index --ascending > "$t/ref.mp"
[ "$(mp2json < "$t/ref.mp" | wc -l)" -eq 13 ] || fail "reference has 13 records"

check_runner() { # $1 = label, rest = score-parallel options
    label=$1; shift
    pipelines/score-parallel.sh --supernet "$t/sn.ckpt" -j 3 "$@" -- -q --proxies sigeo,params,zico \
        < "$t/in.mp" 2>"$t/err" | rank --by index --ascending > "$t/got.mp"
    if cmp -s "$t/got.mp" "$t/ref.mp"; then ok "$label equals one process"
    else fail "$label equals one process"; cat "$t/err"; fi
}
check_runner "xargs -P 3" --runner xargs
check_runner "GNU parallel -j 3" --runner parallel
check_runner "GNU parallel -S :" -S :
export FAKE_REMOTE="$PWD/$t/remote"
check_runner "GNU parallel over (fake) ssh" -S "$PWD/tests/fixtures/fake-ssh host1"
[ -d "$FAKE_REMOTE" ] && [ -z "$(ls -A "$FAKE_REMOTE")" ] && ok "remote files cleaned up" ||
    fail "remote files cleaned up"
printf ':\n%s host2\n' "$PWD/tests/fixtures/fake-ssh" > "$t/hosts"
check_runner "GNU parallel --sshloginfile (local + fake host)" --sshloginfile "$t/hosts"

# a failing shard fails the whole run
printf 'garbage' > "$t/bad.mp"
if pipelines/score-parallel.sh --supernet "$t/sn.ckpt" -j 2 -- -q < "$t/bad.mp" > /dev/null 2>&1
then fail "bad input fails the run"; else ok "bad input fails the run"; fi

# the main job, tiny: 6 candidates, top 1 trained on 1% of the data
if [ -d /usr/share/datasets/fashion-mnist ]; then
    pipelines/search.sh -n 6 -k 1 -j 2 --fraction 0.002 --train-fraction 0.01 --test-fraction 0.02 \
        --cache "$t/cache" --out "$t/out" > "$t/table" 2>"$t/log" || { cat "$t/log"; fail "search.sh runs"; }
    grep -q '^1 ' "$t/table" && grep -q 'stage seconds' "$t/table" && ok "search.sh prints its table" ||
        { cat "$t/table"; fail "search.sh prints its table"; }
    ls "$t/cache"/*.ckpt > /dev/null && ok "warm-up cached" || fail "warm-up cached"
    pipelines/search.sh -n 6 -k 1 -j 2 --fraction 0.002 --train-fraction 0.01 --test-fraction 0.02 \
        --cache "$t/cache" --out "$t/out" > /dev/null 2>"$t/log2"
    grep -q 'reusing cached supernet' "$t/log2" && ok "second run reuses the checkpoint" ||
        fail "second run reuses the checkpoint"
else
    echo "skip: search.sh end to end needs dataset-fashion-mnist"
fi
finish
