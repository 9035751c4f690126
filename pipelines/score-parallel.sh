#!/bin/sh
# score-parallel.sh — score a candidate stream with several score-sigeo processes, one
# shard each (--shard I/N), locally with xargs -P or GNU parallel, or across machines with
# GNU parallel over ssh. The shards are concatenated; `rank` orders the merged stream, and
# the ranked result equals that of one unsharded process.
set -eu

usage() {
    cat <<'EOF'
usage: pipelines/score-parallel.sh --supernet FILE [options] [-- score-sigeo options] < in.mp > out.mp
  --supernet FILE     checkpoint from warmup-supernet (required)
  -j INT              shards, one process each [number of local cores]
  --runner NAME       xargs or parallel [xargs]
  -S LOGINS           GNU parallel --sshlogin list (implies --runner parallel), e.g. ':,4/host2'
  --sshloginfile F    GNU parallel --sshloginfile (implies --runner parallel)
  --tmp DIR           where the input and shards are staged [a new dir under $TMPDIR]
  -h, --help          this text
Across machines, every host needs score-sigeo at the same path (make install) and the data
set (Debian's dataset-fashion-mnist, or the --data directory) at the same path. The
checkpoint and the candidate stream are copied with --basefile; each shard comes back
with --return and is removed remotely with --cleanup.
Options after -- go to every score-sigeo process as given (--proxies, --latency-batch, ...).
A timed proxy (--proxies latency) measures each candidate while the other shards run:
keep -j at most the number of cores, or the times include waiting for one.
EOF
}

here=$(cd "$(dirname "$0")/.." && pwd)
bin="${SIGEO_BIN:-$here/bin}"
jobs=$(nproc 2>/dev/null || echo 2) runner=xargs supernet="" logins="" loginfile="" tmp=""
while [ $# -gt 0 ]; do
    case "$1" in
    --supernet) supernet=$2; shift ;;
    -j) jobs=$2; shift ;;
    --runner) runner=$2; shift ;;
    -S) logins=$2; runner=parallel; shift ;;
    --sshloginfile) loginfile=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); runner=parallel; shift ;;
    --tmp) tmp=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    *) echo "score-parallel.sh: error: unknown option '$1' (see -h)" >&2; exit 2 ;;
    esac
    shift
done
[ -n "$supernet" ] || { echo "score-parallel.sh: error: --supernet FILE is required" >&2; exit 2; }
[ -f "$supernet" ] || { echo "score-parallel.sh: error: $supernet: no such file" >&2; exit 1; }
case "$runner" in xargs|parallel) ;; *) echo "score-parallel.sh: error: unknown runner '$runner'" >&2; exit 2 ;; esac
# a plain decimal: sh arithmetic reads 010 as octal (8 shards of /10) and 08 as an error
case "$jobs" in ''|*[!0-9]*|0*) echo "score-parallel.sh: error: -j needs a decimal integer >= 1 without leading zeros, not '$jobs'" >&2; exit 2 ;; esac
for a in "$@"; do
    case "$a" in --shard|--shard=*) echo "score-parallel.sh: error: --shard is set per process here; do not pass it after --" >&2; exit 2 ;; esac
done

own_tmp=0
if [ -z "$tmp" ]; then tmp=$(mktemp -d "${TMPDIR:-/tmp}/sigeo-score.XXXXXX"); own_tmp=1; fi
mkdir -p "$tmp"
cleanup() { if [ "$own_tmp" = 1 ]; then rm -rf "$tmp"; fi; }
trap cleanup EXIT INT TERM

# Stage the input and the checkpoint under one directory so that remote hosts see the same
# relative paths (GNU parallel transfers --basefile/--return relative to the cwd).
cat > "$tmp/in.mp"
cp "$supernet" "$tmp/supernet.ckpt"
cd "$tmp"
score="$bin/score-sigeo"
export score jobs
if [ "$runner" = xargs ]; then
    seq 0 $((jobs - 1)) | xargs -P "$jobs" -I{} sh -c \
        '"$score" --supernet supernet.ckpt --shard {}/"$jobs" "$@" < in.mp > shard.{}.mp' sh "$@"
else
    # -q: parallel quotes every word for the (remote) shell, so paths and arguments with
    # spaces arrive whole; the redirections live inside the sh -c script.
    set -- --halt now,fail=1 -j "$jobs" --basefile supernet.ckpt --basefile in.mp \
        --return shard.{}.mp --cleanup -q sh -c \
        's=$1 n=$2 i=$3; shift 3; "$s" --supernet supernet.ckpt --shard "$i/$n" "$@" < in.mp > "shard.$i.mp"' \
        sh "$score" "$jobs" {} "$@"
    if [ -n "$loginfile" ]; then
        seq 0 $((jobs - 1)) | parallel --sshloginfile "$loginfile" "$@"
    elif [ -n "$logins" ]; then
        seq 0 $((jobs - 1)) | parallel -S "$logins" "$@"
    else
        seq 0 $((jobs - 1)) | parallel "$@"
    fi
fi
i=0
while [ $i -lt "$jobs" ]; do
    [ -f "shard.$i.mp" ] || { echo "score-parallel.sh: error: shard $i produced no output" >&2; exit 1; }
    cat "shard.$i.mp"
    i=$((i + 1))
done
