# lib.sh — tiny helpers for the shell tests (sourced from the repo root): ok/fail lines,
# a checked condition, a non-zero exit on failure, and a tiny IDX data set.
n_fail=0
ok() { echo "ok $*"; }
fail() { echo "NOT OK $*"; n_fail=$((n_fail + 1)); }
notok() { fail "$@"; }
# check NAME CONDITION: ok when `eval CONDITION` succeeds (it sees the $? of the command
# before the call), else fail and, when CHECK_ERR names a file (a stderr capture), show
# its first lines.
check() {
    if eval "$2"; then ok "$1"; else
        fail "$1"
        [ -z "${CHECK_ERR:-}" ] || sed 's/^/    err: /' "$CHECK_ERR" 2>/dev/null | head -5
    fi
}
finish() { [ "$n_fail" -eq 0 ] || { echo "$n_fail check(s) failed"; exit 1; }; exit 0; }

# idx_blobs DIR N SEED: DIR/train-{images-idx3,labels-idx1}-ubyte with N 8x8 images of 3
# classes (label i % 3): noise below 60 and a bright 2x2 blob whose position gives the
# class, drawn from Python's random.Random(SEED). Fails when python3 does.
idx_blobs() {
    /usr/bin/python3 - "$@" <<'EOF'
import random, struct, sys
d, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = random.Random(seed)
imgs, labs = bytearray(), bytearray()
for i in range(n):
    k = i % 3
    px = [r.randrange(0, 60) for _ in range(64)]
    y, x = [(1, 1), (1, 5), (5, 3)][k]
    for dy in (0, 1):
        for dx in (0, 1):
            px[(y + dy) * 8 + x + dx] = 200 + r.randrange(0, 55)
    imgs += bytes(px)
    labs.append(k)
open(d + "/train-images-idx3-ubyte", "wb").write(struct.pack(">IIII", 0x803, n, 8, 8) + imgs)
open(d + "/train-labels-idx1-ubyte", "wb").write(struct.pack(">II", 0x801, n) + labs)
EOF
}
