# mkckpt.py SRC DSTDIR: damaged-but-rehashed checkpoints for t_regress.sh. Each one has a
# valid content hash, so the loader's checks behind the hash are what must refuse it.
import hashlib, math, msgpack, sys

src, dst = sys.argv[1], sys.argv[2]
base = msgpack.unpackb(open(src, "rb").read(), raw=False)


def write(name, d):
    d = {k: v for k, v in d.items() if k != "hash"}
    body = msgpack.packb(d)
    d["hash"] = hashlib.sha256(body).hexdigest()
    open(f"{dst}/{name}", "wb").write(msgpack.packb(d))


def edit(name, f):
    d = msgpack.unpackb(msgpack.packb(base), raw=False)
    f(d)
    write(name, d)


t0 = next(iter(base["tensors"]))
edit("shape-mismatch.ckpt", lambda d: d["tensors"][t0].update(shape=[2, 1, 3, 3]))
edit("data-short.ckpt", lambda d: d["tensors"][t0].update(data=d["tensors"][t0]["data"][:-4]))
edit("huge-shape.ckpt", lambda d: d["tensors"][t0].update(shape=[65536, 65536, 65536, 65536]))
edit("negative-shape.ckpt", lambda d: d["tensors"][t0].update(shape=[-1, 1, 3, 3]))
edit("float-shape.ckpt", lambda d: d["tensors"][t0].update(shape=[2.5, 1, 3, 3]))
edit("nan-weights.ckpt", lambda d: d["tensors"][t0].update(data=b"\x00\x00\xc0\x7f" * 9))
edit("missing-tensor.ckpt", lambda d: d["tensors"].pop(t0))
edit("cfg-huge.ckpt", lambda d: d["cfg"].update(C=1 << 30))
edit("cfg-zero.ckpt", lambda d: d["cfg"].update(C=0, N=0))
edit("wrong-space.ckpt", lambda d: d.update(space="darts"))
edit("wrong-kind.ckpt", lambda d: d.update(kind="arch"))
edit("curve-long.ckpt", lambda d: d.update(loss_curve=[1.0] * 5000))
edit("lambda-nan.ckpt", lambda d: d.update({"lambda": [math.nan, 1.0, 1.0]}))
edit("tensors-not-map.ckpt", lambda d: d.update(tensors=[1, 2]))
