#!/usr/bin/env python3
"""GPU speed benchmark: Attn's CUDA kernels against PyTorch's
scaled_dot_product_attention (flash and cuDNN backends) and FlexAttention,
in one run on the GPU machine.

bench/gpu/bench_prepare.sh writes the cases (bench/gpu/.work/bench/<case>/:
the spec, its PTX and manifest, case.json and the int32 operands);
bench/gpu/device.sh builds attn-gpu-check and runs this script, which builds
nothing. Attn: `attn-gpu-check --kernel DIR --random ... --bench 20` (random
uniform(-1, 1) bf16 inputs made by the tool; the mean of 20 launches after 3
warm-up launches). Peers: the same shapes in PyTorch, bshd tensors passed as
[B, H, S, D] views; after a first call (compiles) and 3 warm-up calls, the
median of 20 calls each timed with CUDA events. Prefill in TFLOP/s counting
only visible query-key pairs (4 * B * H * pairs * D, the pairs counted
exactly per mask); decode in GB/s of K and V read (2 * B * kv * Hkv * D * 2
bytes). Every peer failure is noted, never fatal. The table goes to
$OUT/gpu-bench.md (else bench/gpu/.work/gpu-bench.md), rewritten after every
case so that a run cut short still leaves what it measured.

Usage: python3 bench/gpu/bench.py [--budget SECONDS] [case-filter-regex]
"""

import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import time
import traceback
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
WORK = os.path.join(ROOT, "bench", "gpu", ".work")

try:
    import torch
    import torch.nn.functional as F
    TORCH_ERROR = None
except Exception as e:  # the Attn column still runs
    torch = None
    TORCH_ERROR = f"{type(e).__name__}: {e}"

PEERS = ["flash", "cudnn", "flex"]
PEER_TITLES = {"flash": "SDPA flash", "cudnn": "SDPA cuDNN",
               "flex": "FlexAttention"}


# ---------------------------------------------------------------------------
# Work per case
# ---------------------------------------------------------------------------

def visible_pairs(c):
    """The visible query-key pairs of one (batch, head), exactly; queries
    are bottom-right aligned as Attn's masks (p = i + kv - s)."""
    s, kv, mask = c["q_len"], c["kv_len"], c["mask"]
    if mask == "full":
        return s * kv
    off, total = kv - s, 0
    docs = c["docs"]
    for i in range(s):
        p = i + off
        lo, hi = 0, min(p, kv - 1)  # causal: k <= p
        if mask == "sliding_window":
            lo = max(lo, p - c["window"])
        elif mask == "document":
            # Equal documents: the query's own document in the keys.
            d = i // (s // docs)
            lo = max(lo, d * (kv // docs))
            hi = min(hi, (d + 1) * (kv // docs) - 1)
        total += max(0, hi - lo + 1)
    return total


def work(c):
    """(the unit, its amount per launch): TFLOP or GB."""
    b, hq, hkv, d = c["batch"], c["heads_q"], c["heads_kv"], c["head_dim"]
    if c["kind"] == "decode":
        return "GB/s", 2 * b * c["kv_len"] * hkv * d * 2 / 1e9
    return "TFLOP/s", 4 * b * hq * visible_pairs(c) * d / 1e12


# ---------------------------------------------------------------------------
# Attn
# ---------------------------------------------------------------------------

def run_attn(tool, case_dir, c, repeats):
    """(mean ms, None) or (None, why)."""
    if not os.path.exists(os.path.join(case_dir, "kernel.ptx")):
        why = "not compiled"
        log = os.path.join(case_dir, "compile.txt")
        if os.path.exists(log):
            lines = [l for l in open(log).read().splitlines() if l.strip()]
            if lines:
                why += ": " + next((l for l in lines if "error" in l),
                                   lines[-1])
        return None, why
    if not os.path.exists(tool):
        return None, f"{tool} is not built"
    sizes = f"batch={c['batch']},q_len={c['q_len']},kv_len={c['kv_len']}"
    cmd = [tool, "--kernel", case_dir, "--random", sizes, "--bench",
           str(repeats)]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        return None, "attn-gpu-check ran past 300 s"
    m = re.search(r"mean_ms=([0-9.eE+-]+)", r.stdout)
    if r.returncode != 0 or not m:
        lines = (r.stderr + r.stdout).strip().splitlines()
        return None, f"attn-gpu-check failed (rc {r.returncode}): " + (
            lines[-1] if lines else "no output")
    return float(m.group(1)), None


# ---------------------------------------------------------------------------
# Peers
# ---------------------------------------------------------------------------

def time_cuda(fn, warmup=3, runs=20):
    """The median ms of `runs` calls, each between two CUDA events, after
    a first call (which compiles) and `warmup` more."""
    fn()
    torch.cuda.synchronize()
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    events = [(torch.cuda.Event(enable_timing=True),
               torch.cuda.Event(enable_timing=True)) for _ in range(runs)]
    for start, stop in events:
        start.record()
        fn()
        stop.record()
    torch.cuda.synchronize()
    return statistics.median(s.elapsed_time(e) for s, e in events)


def first_line(text, limit=220):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "..."


def peer_inputs(c):
    b, s, kv = c["batch"], c["q_len"], c["kv_len"]
    hq, hkv, d = c["heads_q"], c["heads_kv"], c["head_dim"]
    gen = torch.Generator(device="cuda").manual_seed(0)

    def rand(*shape):
        x = torch.empty(*shape, device="cuda", dtype=torch.bfloat16)
        return x.uniform_(-1, 1, generator=gen)

    # bshd, as Attn's.
    return rand(b, s, hq, d), rand(b, kv, hkv, d), rand(b, kv, hkv, d)


def sdpa_peer(c, q, k, v, backend_name):
    """(fn, note) or (None, why not)."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    backend = {"flash": SDPBackend.FLASH_ATTENTION,
               "cudnn": SDPBackend.CUDNN_ATTENTION}[backend_name]
    mask, s, kv = c["mask"], c["q_len"], c["kv_len"]
    if mask == "sliding_window":
        return None, "SDPA has no sliding window (only a dense attn_mask)"
    if mask == "softcap":
        return None, "SDPA has no softcap score modifier"
    note = None
    if mask == "document":
        # Equal documents, causal within each: exactly causal attention
        # on batch * docs sequences of q_len / docs.
        n, b = c["docs"], c["batch"]
        if s != kv or s % n:
            return None, "documents of unequal q and kv lengths"
        q, k, v = (x.reshape(b * n, x.shape[1] // n, *x.shape[2:])
                   for x in (q, k, v))
        note = (f"documents run as {b * n} causal sequences of {s // n} "
                "(exact for equal documents)")
        causal = True
    elif mask == "full":
        causal = False
    elif s == kv:
        causal = True
    elif s == 1:
        # Bottom-right causal with one query sees every key; SDPA's
        # is_causal is top-left aligned, so run without a mask.
        causal = False
    else:
        return None, "SDPA's is_causal is top-left aligned (q_len != kv_len)"
    qt, kt, vt = (x.transpose(1, 2) for x in (q, k, v))
    kwargs = {"is_causal": causal}
    if c["heads_q"] != c["heads_kv"]:
        kwargs["enable_gqa"] = True

    def fn():
        with sdpa_kernel([backend]):
            return F.scaled_dot_product_attention(qt, kt, vt, **kwargs)
    return fn, note


_FLEX = None


def flex_peer(c, q, k, v, contiguous=False):
    global _FLEX
    from torch.nn.attention.flex_attention import (create_block_mask,
                                                   flex_attention)
    if _FLEX is None:
        _FLEX = torch.compile(flex_attention, dynamic=False)
    mask, b, s, kv = c["mask"], c["batch"], c["q_len"], c["kv_len"]
    off = kv - s  # bottom-right alignment, as Attn's
    w = c["window"]
    mask_mod, score_mod, per_batch = None, None, False
    if mask == "causal" or mask == "softcap":
        if s > 1:
            def mask_mod(bi, h, qi, ki):
                return qi + off >= ki
    elif mask == "sliding_window":
        def mask_mod(bi, h, qi, ki):
            p = qi + off
            return (p >= ki) & (p - ki <= w)
    elif mask == "document":
        n = c["docs"]
        pos_q = torch.arange(s, device="cuda", dtype=torch.int32)
        pos_kv = torch.arange(kv, device="cuda", dtype=torch.int32)
        doc_q = (pos_q // (s // n)).expand(b, s).contiguous()
        doc_kv = (pos_kv // (kv // n)).expand(b, kv).contiguous()
        per_batch = True

        def mask_mod(bi, h, qi, ki):
            return (doc_q[bi, qi] == doc_kv[bi, ki]) & (qi + off >= ki)
    if mask == "softcap":
        cap = float(c["softcap"])

        def score_mod(score, bi, h, qi, ki):
            return cap * torch.tanh(score / cap)
    block_mask = None
    if mask_mod is not None:
        try:
            block_mask = create_block_mask(mask_mod, b if per_batch else None,
                                           None, s, kv, device="cuda",
                                           _compile=True)
        except TypeError:
            block_mask = create_block_mask(mask_mod, b if per_batch else None,
                                           None, s, kv, device="cuda")
    qt, kt, vt = (x.transpose(1, 2) for x in (q, k, v))
    if contiguous:
        qt, kt, vt = (x.contiguous() for x in (qt, kt, vt))
    kwargs = {"score_mod": score_mod, "block_mask": block_mask}
    if c["heads_q"] != c["heads_kv"]:
        kwargs["enable_gqa"] = True

    def fn():
        return _FLEX(qt, kt, vt, **kwargs)
    return fn, "on [B, H, S, D] copies" if contiguous else None


def run_peers(c, runs):
    """{peer: (ms, note)} with ms None when the peer did not run."""
    results = {}
    if torch is None:
        return {p: (None, f"no torch ({TORCH_ERROR})") for p in PEERS}
    if not torch.cuda.is_available():
        return {p: (None, "torch sees no CUDA device") for p in PEERS}
    try:
        torch._dynamo.reset()
    except Exception:
        pass
    try:
        q, k, v = peer_inputs(c)
    except Exception as e:
        return {p: (None, f"inputs: {first_line(e)}") for p in PEERS}
    for peer in PEERS:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                if peer == "flex":
                    fn, note = flex_peer(c, q, k, v)
                else:
                    fn, note = sdpa_peer(c, q, k, v, peer)
                if fn is None:
                    results[peer] = (None, f"skipped: {note}")
                    continue
                try:
                    results[peer] = (time_cuda(fn, runs=runs), note)
                except Exception as e:
                    if peer != "flex":
                        raise
                    # Once more on contiguous [B, H, S, D] copies, in case
                    # this version wants them rather than bshd views.
                    sys.stderr.write(f"{c['name']} flex on bshd views: "
                                     f"{first_line(e)}; retrying on "
                                     "copies\n")
                    fn, note = flex_peer(c, q, k, v, contiguous=True)
                    results[peer] = (time_cuda(fn, runs=runs), note)
            except Exception as e:
                why = f"{type(e).__name__}: {first_line(e)}"
                # SDPA says why a backend cannot run in its warnings.
                reasons = [first_line(w.message, 160) for w in caught
                           if "kernel" in str(w.message).lower()
                           or "not supported" in str(w.message).lower()]
                if reasons:
                    why += " (" + "; ".join(reasons[:2]) + ")"
                results[peer] = (None, f"failed: {why}")
                sys.stderr.write(f"{c['name']} {peer}: {why}\n")
                if os.environ.get("ATTN_BENCH_TRACEBACK"):
                    traceback.print_exc()
        try:
            torch.cuda.synchronize()
        except Exception:
            pass
    del q, k, v
    torch.cuda.empty_cache()
    return results


# ---------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------

def environment():
    lines = []
    try:
        smi = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version",
             "--format=csv,noheader"], capture_output=True, text=True,
            timeout=60).stdout.strip().splitlines()
        gpu = smi[0] if smi else "unknown"
    except Exception as e:
        gpu = f"unknown (nvidia-smi: {first_line(e)})"
    name, _, driver = gpu.partition(",")
    lines.append(f"- GPU: {name.strip()}, driver {driver.strip() or '?'} "
                 "(nvidia-smi)")
    if torch is not None:
        cudnn = torch.backends.cudnn.version() if \
            torch.backends.cudnn.is_available() else "none"
        text = (f"- torch {torch.__version__} (CUDA {torch.version.cuda}, "
                f"cuDNN {cudnn})")
        try:
            import triton
            text += f", triton {triton.__version__}"
        except Exception:
            pass
        lines.append(text)
    else:
        lines.append(f"- torch: not importable ({TORCH_ERROR})")
    return lines


def rate(amount, ms):
    return amount / (ms * 1e-3) if ms else None


def fmt_cell(amount, ms):
    if ms is None:
        return "—"
    return f"{rate(amount, ms):.1f} ({ms:.3f} ms)"


def fmt_ratio(attn_ms, peer_ms):
    if attn_ms is None or peer_ms is None:
        return "—"
    return f"{peer_ms / attn_ms:.2f}"


def write_report(path, header, rows, pending):
    out = list(header)
    for kind, unit, title in (
            ("prefill", "TFLOP/s", "Prefill: bf16, 16 heads, bshd, "
             "batch x S = 16384 tokens"),
            ("decode", "GB/s", "Decode: bf16, one query, batch 8, 32 query "
             "heads over 8 kv heads, D 128")):
        sel = [r for r in rows if r["case"]["kind"] == kind]
        if not sel:
            continue
        out += ["", f"## {title}", ""]
        if kind == "prefill":
            cols = ["case", "mask", "D", "B x S", "pairs / head"]
        else:
            cols = ["case", "kv storage", "kv len"]
        cols += [f"Attn {unit} (ms)"] + [
            f"{PEER_TITLES[p]} {unit} (ms)" for p in PEERS] + [
            f"Attn / {PEER_TITLES[p]}" for p in PEERS]
        out.append("| " + " | ".join(cols) + " |")
        out.append("|" + "---|" * len(cols))
        for r in sel:
            c = r["case"]
            if kind == "prefill":
                cells = [c["name"], c["mask"], str(c["head_dim"]),
                         f"{c['batch']} x {c['q_len']}",
                         str(visible_pairs(c))]
            else:
                storage = (f"paged ({c['page_size']})" if c["page_size"]
                           else "contiguous")
                cells = [c["name"], storage, str(c["kv_len"])]
            cells.append(fmt_cell(r["amount"], r["attn_ms"]))
            cells += [fmt_cell(r["amount"], r["peers"][p][0]) for p in PEERS]
            cells += [fmt_ratio(r["attn_ms"], r["peers"][p][0])
                      for p in PEERS]
            out.append("| " + " | ".join(cells) + " |")
    notes = []
    for r in rows:
        name = r["case"]["name"]
        if r["attn_note"]:
            notes.append(f"- {name}, Attn: {r['attn_note']}")
        for p in PEERS:
            if r["peers"][p][1]:
                notes.append(f"- {name}, {PEER_TITLES[p]}: {r['peers'][p][1]}")
        if r.get("note"):
            notes.append(f"- {name}: {r['note']}")
    for name, why in pending:
        notes.append(f"- {name}: not run ({why})")
    if notes:
        out += ["", "## Notes", ""] + notes
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("filter", nargs="?", default=".",
                    help="run the cases whose name matches this regex")
    ap.add_argument("--cases", default=os.path.join(WORK, "bench"))
    ap.add_argument("--tool", default=os.path.join(
        ROOT, "build-gpu", "bin", "attn-gpu-check"))
    ap.add_argument("--out", default=None,
                    help="default: $OUT/gpu-bench.md, else "
                         "bench/gpu/.work/gpu-bench.md")
    ap.add_argument("--repeats", type=int, default=20,
                    help="Attn's timed launches (attn-gpu-check --bench R)")
    ap.add_argument("--runs", type=int, default=20,
                    help="timed calls per peer (the median is reported)")
    ap.add_argument("--budget", type=float, default=0,
                    help="start no case after this many seconds (0: none)")
    ap.add_argument("--no-peers", action="store_true")
    args = ap.parse_args()
    out = args.out or os.path.join(os.environ.get("OUT") or WORK,
                                   "gpu-bench.md")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)

    order_file = os.path.join(args.cases, "cases.txt")
    if os.path.exists(order_file):
        names = [l.strip() for l in open(order_file) if l.strip()]
    else:
        names = sorted(n for n in os.listdir(args.cases)
                       if os.path.exists(os.path.join(args.cases, n,
                                                      "case.json")))
    names = [n for n in names if re.search(args.filter, n)]

    command = "python3 " + " ".join(
        [os.path.relpath(os.path.abspath(sys.argv[0]), ROOT)] + sys.argv[1:])
    header = [
        f"# GPU attention benchmark, {datetime.date.today().isoformat()}",
        "",
    ] + environment() + [
        f"- command: `{command}` (from bench/gpu/device.sh after "
        "bench/gpu/bench_prepare.sh)",
        f"- Attn: `attn-gpu-check --kernel DIR --random batch=B,q_len=S,"
        f"kv_len=S2 --bench {args.repeats}`, the mean of {args.repeats} "
        "launches queued on one stream after 3 warm-up launches (random "
        "uniform(-1, 1) bf16 inputs made by the tool); the runtime checks "
        "the arguments on every launch and copies int32 operands (doc ids, "
        "block table) to the host for that, so those cases include that "
        "host work",
        f"- peers: PyTorch `scaled_dot_product_attention` under "
        "`sdpa_kernel(FLASH_ATTENTION)` / `sdpa_kernel(CUDNN_ATTENTION)`, "
        "and `flex_attention` under `torch.compile` (create_block_mask for "
        "the masks, a score_mod for softcap, enable_gqa for GQA); bshd "
        f"tensors as [B, H, S, D] views; the median of {args.runs} calls, "
        "each between CUDA events, after a first call and 3 warm-up calls",
        "- TFLOP/s: 4 x B x H x (visible query-key pairs per head) x D / "
        "time, the pairs counted exactly for each mask; GB/s: K and V read, "
        "2 x B x kv_len x Hkv x D x 2 bytes / time",
        "- Attn / peer: the peer's time over Attn's (above 1: Attn is "
        "faster)",
    ]

    start = time.time()
    rows, pending, peer_cache = [], [], {}
    write_report(out, header, rows, [(n, "pending") for n in names])
    for i, name in enumerate(names):
        if args.budget and time.time() - start > args.budget:
            pending = [(n, f"the {args.budget:.0f} s budget was spent")
                       for n in names[i:]]
            break
        case_dir = os.path.join(args.cases, name)
        try:
            c = json.load(open(os.path.join(case_dir, "case.json")))
        except Exception as e:
            pending.append((name, f"no case.json: {first_line(e)}"))
            continue
        t0 = time.time()
        unit, amount = work(c)
        attn_ms, attn_note = run_attn(args.tool, case_dir, c, args.repeats)
        note = None
        if args.no_peers:
            peers = {p: (None, None) for p in PEERS}
        else:
            # Paged cases: the peers read the same keys from a contiguous
            # cache (neither SDPA nor FlexAttention here takes a block
            # table); reuse the contiguous case's numbers when it ran.
            key = tuple(c[f] for f in ("kind", "mask", "batch", "q_len",
                                       "kv_len", "heads_q", "heads_kv",
                                       "head_dim"))
            if c["page_size"] and key in peer_cache:
                peers = peer_cache[key][1]
                note = (f"peers read a contiguous kv cache (the numbers of "
                        f"{peer_cache[key][0]}); Attn reads pages of "
                        f"{c['page_size']} through a shuffled block table")
            else:
                peers = run_peers(c, args.runs)
                if c["page_size"]:
                    note = ("peers read a contiguous kv cache; Attn reads "
                            f"pages of {c['page_size']} through a shuffled "
                            "block table")
                else:
                    peer_cache[key] = (name, peers)
        rows.append({"case": c, "unit": unit, "amount": amount,
                     "attn_ms": attn_ms, "attn_note": attn_note,
                     "peers": peers, "note": note})
        cells = [f"Attn {attn_ms}" if attn_ms is not None else
                 f"Attn: {attn_note}"] + [
            f"{p} {peers[p][0]:.4f}" if peers[p][0] is not None else
            f"{p}: {peers[p][1]}" for p in PEERS]
        print(f"{name} ({time.time() - t0:.0f} s): " + "; ".join(
            str(x) for x in cells), flush=True)
        write_report(out, header, rows,
                     pending + [(n, "pending") for n in names[i + 1:]])
    write_report(out, header, rows, pending)
    with open(os.path.splitext(out)[0] + ".json", "w") as f:
        json.dump([{"case": r["case"], "unit": r["unit"],
                    "amount": r["amount"], "attn_ms": r["attn_ms"],
                    "attn_note": r["attn_note"], "peers": r["peers"],
                    "note": r["note"]} for r in rows], f, indent=1)
    print(f"wrote {out} ({time.time() - start:.0f} s)")


if __name__ == "__main__":
    main()
