#!/usr/bin/python3
"""Write a file tree of NFILES files totalling about BYTES bytes into DIR.

usage: tree.py DIR NFILES BYTES [--per-dir N] [--text FRACTION] [--seed S]

File sizes follow a skewed (log-uniform) spread scaled to the total, like a real
source or rootfs tree: many small files and a few large ones. About FRACTION of
the files (default 0.5) hold hex text, which compresses ~2:1; the rest hold
random bytes, which do not compress. Files are spread over directories of at most
N files (default 200), two levels deep.
"""
import argparse, math, os, random

p = argparse.ArgumentParser()
p.add_argument("dir"); p.add_argument("nfiles", type=int); p.add_argument("bytes", type=int)
p.add_argument("--per-dir", type=int, default=200)
p.add_argument("--text", type=float, default=0.5)
p.add_argument("--seed", type=int, default=7)
a = p.parse_args()

rng = random.Random(a.seed)
# log-uniform weights between 1 and 10,000 (2 B .. a few MiB at 1 GiB / 20k files)
w = [math.exp(rng.uniform(0, math.log(10000))) for _ in range(a.nfiles)]
scale = a.bytes / sum(w)
sizes = [max(1, int(x * scale)) for x in w]

os.makedirs(a.dir, exist_ok=True)
CHUNK = 1 << 20
for i, size in enumerate(sizes):
    d = os.path.join(a.dir, "d%03d" % (i // (a.per_dir * a.per_dir)), "d%03d" % (i // a.per_dir % a.per_dir))
    if i % a.per_dir == 0:
        os.makedirs(d, exist_ok=True)
    text = rng.random() < a.text
    with open(os.path.join(d, "f%06d%s" % (i, ".txt" if text else ".bin")), "wb") as f:
        left = size
        while left > 0:
            n = min(left, CHUNK)
            f.write(os.urandom((n + 1) // 2).hex().encode()[:n] if text else os.urandom(n))
            left -= n
