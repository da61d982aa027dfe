#!/usr/bin/env python3
"""Writes a small .npy file without NumPy, for tests of attn-run's reader:
write_npy.py PATH DESCR SHAPE FIRST [--header-spaces N] [--fortran]
DESCR is '<f4', '<i8', ...; SHAPE like 2,70; the first element is FIRST
(a float, 'nan', or an integer) and the rest are 0."""
import argparse
import struct

ap = argparse.ArgumentParser()
ap.add_argument("path")
ap.add_argument("descr")
ap.add_argument("shape")
ap.add_argument("first")
ap.add_argument("--header-spaces", type=int, default=1)
ap.add_argument("--fortran", action="store_true")
args = ap.parse_args()
shape = [int(x) for x in args.shape.split(",")]
count = 1
for d in shape:
    count *= d
fmt = {"<f4": "<f", "<f8": "<d", "<i4": "<i", "<i8": "<q"}[args.descr]
first = float(args.first) if args.descr.startswith("<f") else int(args.first)
data = struct.pack(fmt, first) + struct.pack(fmt, 0) * (count - 1)
sep = " " * args.header_spaces
header = ("{'descr': '%s', 'fortran_order':%s%s, 'shape': (%s,), }"
          % (args.descr, sep, "True" if args.fortran else "False",
             ", ".join(str(d) for d in shape)))
header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
with open(args.path, "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)))
    f.write(header.encode("latin1") + data)
