#!/usr/bin/env python3
"""CPU benchmark: Attn's generated kernels against a plain loop nest and
PyTorch's CPU scaled_dot_product_attention, in one run.

f32, batch 1, 4 heads, D in {64, 128}, S in {512, 2048, 8192}, full and
causal attention, 1 and 2 threads; plus a sliding window of 256 at S = 8192
(Attn only, against Attn's full attention). GFLOP/s count only the visible
query-key pairs (4 * pairs * D per head). Decode rows: batch 1, bf16, GQA
32/8, D 128, one query against kv 8k and 128k, 1 and 2 threads, without
split-KV, with 4 chunks and with the count picked per launch, in GB/s of K
and V read. With --baseline-attn-run every Attn row is also run with an
older build in the same run (before/after). Run through run.sh, which sets
up the environment."""

import argparse
import datetime
import os
import platform
import re
import subprocess
import sys
import tempfile
import time

import torch

HEADS = 4


def spec(name, d, mask):
    text = f"name: {name}\ndtype: f32\nhead_dim: {d}\nheads: {HEADS}\n"
    if mask:
        text += f"mask: {mask}\n"
    return text


def pairs(s, causal, window=None):
    if window is not None:
        return sum(min(i, window) + 1 for i in range(s))
    return s * (s + 1) // 2 if causal else s * s


def gflops(s, d, p, ms):
    return 4.0 * p * d * HEADS / (ms * 1e6)


def run_attn(attn_run, path, s, threads, cache, extra=(), kv=None):
    cmd = [attn_run, path, "--bench", "--batch", "1", "--q-len", str(s),
           "--threads", str(threads), "--repeats", "7", "--cache-dir", cache]
    if kv is not None:
        cmd += ["--kv-len", str(kv)]
    out = subprocess.run(cmd + list(extra), check=True, capture_output=True,
                         text=True).stdout
    return float(re.search(r"median_ms=([0-9.]+)", out).group(1))


def try_attn(attn_run, *args, **kwargs):
    """run_attn, or None when that build cannot run the row."""
    if attn_run is None:
        return None
    try:
        return run_attn(attn_run, *args, **kwargs)
    except subprocess.CalledProcessError:
        return None


DECODE_SPEC = ("name: bench_decode\ndtype: bf16\nhead_dim: 128\n"
               "heads: {q: 32, kv: 8}\nmask: causal\n")


def run_torch(s, d, causal, threads, window=None):
    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(1, HEADS, s, d, generator=g) for _ in range(3))
    mask = None
    if window is not None:
        i = torch.arange(s)
        mask = (i[None, :] <= i[:, None]) & (i[None, :] >= i[:, None] - window)
    f = lambda: torch.nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=mask, is_causal=causal and mask is None)
    for _ in range(2):
        f()
    times = []
    for _ in range(5 if s < 8192 else 3):
        t = time.perf_counter()
        f()
        times.append((time.perf_counter() - t) * 1e3)
    return sorted(times)[len(times) // 2]


def run_naive(naive, s, d, causal, window=None):
    out = subprocess.run([naive, str(s), str(d), str(HEADS), str(int(causal)),
                          str(-1 if window is None else window)],
                         check=True, capture_output=True, text=True).stdout
    return float(out.strip())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--attn-run", required=True)
    ap.add_argument("--naive", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--sizes", default="512,2048,8192")
    ap.add_argument("--command", default="")
    ap.add_argument("--decode-kv", default="8192,131072")
    ap.add_argument("--baseline-attn-run", default=None)
    ap.add_argument("--baseline-name", default="baseline")
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    base = args.baseline_attn_run

    tmp = tempfile.mkdtemp(prefix="attn-bench-")
    cache = os.path.join(tmp, "cache")
    base_cache = os.path.join(tmp, "base-cache")
    before = {}  # row index -> the baseline's GFLOP/s
    rows = []
    for d in (64, 128):
        paths = {}
        for name, mask in (("full", None), ("causal", "causal"),
                           ("window", "[causal, {sliding_window: {left: 256}}]")):
            paths[name] = os.path.join(tmp, f"{name}_{d}.yaml")
            with open(paths[name], "w") as f:
                f.write(spec(f"bench_{name}_{d}", d, mask))
        for s in sizes:
            for causal in (False, True):
                kind = "causal" if causal else "full"
                p = pairs(s, causal)
                naive_ms = run_naive(args.naive, s, d, causal)
                for threads in (1, 2):
                    attn_ms = run_attn(args.attn_run, paths[kind], s, threads,
                                       cache)
                    base_ms = try_attn(base, paths[kind], s, threads,
                                       base_cache)
                    if base_ms:
                        before[len(rows)] = gflops(s, d, p, base_ms)
                    torch_ms = run_torch(s, d, causal, threads)
                    rows.append((kind, d, s, threads,
                                 gflops(s, d, p, attn_ms),
                                 gflops(s, d, p, torch_ms),
                                 gflops(s, d, p, naive_ms)))
                    print(rows[-1], flush=True)
        s = max(sizes)
        p = pairs(s, True, 256)
        for threads in (1, 2):
            attn_ms = run_attn(args.attn_run, paths["window"], s, threads, cache)
            full_ms = run_attn(args.attn_run, paths["full"], s, threads, cache)
            base_ms = try_attn(base, paths["window"], s, threads, base_cache)
            if base_ms:
                before[len(rows)] = gflops(s, d, p, base_ms)
            torch_ms = run_torch(s, d, True, threads, window=256)
            rows.append((f"window256 (full: {full_ms:.1f} ms, window: "
                         f"{attn_ms:.1f} ms, {full_ms / attn_ms:.0f}x faster; "
                         f"visible pairs {s * s / p:.0f}x fewer)",
                         d, s, threads, gflops(s, d, p, attn_ms),
                         gflops(s, d, p, torch_ms), float("nan")))
            print(rows[-1], flush=True)

    # Decode: GB/s of K and V read (bf16: 2 bytes, 8 kv heads, D 128).
    decode_path = os.path.join(tmp, "decode.yaml")
    with open(decode_path, "w") as f:
        f.write(DECODE_SPEC)
    decode = []
    for kv in (int(x) for x in args.decode_kv.split(",")):
        gbytes = 2 * kv * 8 * 128 * 2 / 1e9
        for threads in (1, 2):
            for label, extra in (("no split", ["--split-kv", "1"]),
                                 ("4 chunks", ["--split-kv", "4"]),
                                 ("per launch", [])):
                ms = run_attn(args.attn_run, decode_path, 1, threads, cache,
                              extra, kv=kv)
                base_ms = (try_attn(base, decode_path, 1, threads, base_cache,
                                    kv=kv) if not extra else None)
                decode.append((kv, threads, label, gbytes / (ms / 1e3), ms,
                               gbytes / (base_ms / 1e3) if base_ms else None))
                print(decode[-1], flush=True)

    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    with open(args.out, "w") as f:
        f.write(f"# CPU attention benchmark, {datetime.date.today()}\n\n")
        f.write(f"- machine: {cpu}, {os.cpu_count()} hardware threads, "
                f"{platform.system()} {platform.machine()}\n")
        f.write(f"- peers: PyTorch {torch.__version__} "
                "`scaled_dot_product_attention` on the CPU (a dense boolean "
                "mask for the window), and a plain loop nest (bench/cpu/naive.cpp, "
                "g++ -O3 -march=native, one thread)\n")
        f.write(f"- command: `{args.command}`\n")
        f.write("- f32, batch 1, 4 heads; GFLOP/s count only visible "
                "query-key pairs (4 x pairs x D per head); median of 7 runs "
                "(Attn), 5 (PyTorch; 3 at S = 8192), 3 (loop nest)\n\n")
        if base:
            f.write(f"- before/after: every Attn row also ran "
                    f"`{args.baseline_name}`'s attn-run in the same run "
                    "(its own cache); n/a where that build cannot run it\n")
        f.write("\n| mask | D | S | threads | Attn GFLOP/s | PyTorch GFLOP/s | "
                "loop nest GFLOP/s | Attn / PyTorch | Attn / loop nest |"
                + (" before GFLOP/s | after / before |" if base else "")
                + "\n")
        f.write("|---|---|---|---|---|---|---|---|---|"
                + ("---|---|" if base else "") + "\n")
        for i, (kind, d, s, t, a, p, n) in enumerate(rows):
            ratio_n = "" if n != n else f"{a / n:.1f}"
            naive_text = "" if n != n else f"{n:.1f}"
            f.write(f"| {kind} | {d} | {s} | {t} | {a:.1f} | {p:.1f} | "
                    f"{naive_text} | {a / p:.2f} | {ratio_n} |")
            if base:
                b = before.get(i)
                f.write(f" {b:.1f} | {a / b:.2f} |" if b else " n/a | |")
            f.write("\n")
        f.write("\n## Decode\n\nbf16, batch 1, one query, 32 query heads "
                "over 8 kv heads, D 128, causal; GB/s of K and V read "
                "(2 x kv x 8 x 128 x 2 bytes); median of 7 runs.\n\n")
        f.write("| kv | threads | split-KV | Attn GB/s | ms |"
                + (" before GB/s |" if base else "") + "\n")
        f.write("|---|---|---|---|---|" + ("---|" if base else "") + "\n")
        for kv, t, label, gbs, ms, b in decode:
            f.write(f"| {kv} | {t} | {label} | {gbs:.2f} | {ms:.2f} |")
            if base:
                f.write(f" {b:.2f} |" if b else " n/a |")
            f.write("\n")
    print("wrote", args.out)


if __name__ == "__main__":
    sys.exit(main())
