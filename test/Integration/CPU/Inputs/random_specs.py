"""Random spec combinations through `attn-run --check`.

Draws specs from the cross product of storages (contiguous, paged, ragged),
layouts, head counts and dims, dtypes, masks (intervals, their conjunctions
and unions, not, on_heads, documents, vertical-slash, block-sparse), score
modifiers, normalizers, outputs and schedules, with random lengths, and runs
each against the float64 reference. A spec the compiler rejects with a
located error is counted, not failed; a crash, a FAIL or an error without a
message fails the test.

usage: random_specs.py --runner ATTN_RUN --seed N --count N --dir DIR
"""
import argparse
import os
import random
import subprocess
import sys

parser = argparse.ArgumentParser()
parser.add_argument("--runner", required=True)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--count", type=int, default=20)
parser.add_argument("--dir", required=True)
args = parser.parse_args()
os.makedirs(args.dir, exist_ok=True)
rng = random.Random(args.seed)


def interval():
    return rng.choice([
        "causal", "{causal: {align: top_left}}",
        "{sliding_window: {left: %d}}" % rng.randint(0, 90),
        "{sliding_window: {left: %d, right: %d}}" % (rng.randint(0, 40),
                                                     rng.randint(0, 40)),
        "{sinks: %d}" % rng.randint(1, 20),
        "{chunked: %d}" % rng.choice([16, 33, 64, 100]),
        "{prefix_lm: %d}" % rng.randint(1, 80)])


def mask():
    kind = rng.choice(["none", "one", "and", "or", "vs", "not", "on_heads",
                       "document", "block_sparse"])
    return {
        "none": lambda: None,
        "one": interval,
        "and": lambda: "[%s, %s]" % (interval(), interval()),
        "or": lambda: "{any: [%s, [%s, %s]]}" % (interval(), interval(),
                                                 interval()),
        "vs": lambda: rng.choice(["[causal, vertical_slash]",
                                  "vertical_slash"]),
        "not": lambda: "{not: %s}" % interval(),
        "on_heads": lambda: "[causal, {on_heads: {heads: [0], mask: %s}}]"
        % interval(),
        "document": lambda: "[causal, document]",
        "block_sparse": lambda: "{block_sparse: {block: [%d, %d]}}" % (
            rng.choice([32, 64, 128]), rng.choice([16, 64, 128])),
    }[kind]()


passed = rejected = failed = 0
for i in range(args.count):
    storage = rng.choice(["contiguous", "contiguous", "paged", "ragged"])
    layout = "bshd" if storage == "ragged" else rng.choice(["bshd", "bhsd"])
    hq = rng.choice([1, 2, 4])
    hkv = rng.choice([h for h in (1, 2, 4) if hq % h == 0])
    d = rng.choice([16, 32, 64])
    lines = ["name: random_%d" % i,
             "dtype: %s" % rng.choice(["f32", "f32", "bf16", "f16"]),
             "head_dim: {qk: %d, v: %d}" % (d, rng.choice([d, 32])),
             "heads: {q: %d, kv: %d}" % (hq, hkv), "layout: %s" % layout]
    m = mask()
    if m:
        lines.append("mask: %s" % m)
    normalizer = rng.choice(["softmax", "softmax", "softmax_with_sink",
                             "softmax_off_by_one",
                             "{sigmoid: {bias: -1.0}}", "none"])
    lines.append("normalizer: %s" % normalizer)
    mods = [mod for mod, p in (("{softcap: 20.0}", .3), ("alibi", .2),
                               ("{bias: {broadcast: [h, k]}}", .2))
            if rng.random() < p]
    if mods:
        lines.append("score: [%s]" % ", ".join(mods))
    if storage == "paged":
        lines.append("kv_storage: {paged: {page_size: %d}}"
                     % rng.choice([4, 16, 24, 64]))
    elif storage == "ragged":
        lines.append("kv_storage: ragged")
    if rng.random() < .4 and "softmax" in normalizer:
        lines.append("outputs: [out, lse]")
    if rng.random() < .3:
        lines.append("schedule: {block_q: %d, block_kv: %d}"
                     % (rng.choice([16, 32, 64]), rng.choice([8, 16, 32])))
    path = os.path.join(args.dir, "random_%d.yaml" % i)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    q_len = rng.choice([1, 7, 64, 130, 200])
    kv_len = rng.choice([q_len, q_len, 1, 50, 257])
    command = [args.runner, path, "--check", "--batch",
               str(rng.randint(1, 3)), "--q-len", str(q_len), "--kv-len",
               str(kv_len), "--seed", str(i)]
    run = subprocess.run(command, capture_output=True, text=True)
    output = run.stdout + run.stderr
    if run.returncode == 0 and "PASS" in output:
        passed += 1
    elif run.returncode == 1 and "error: '" in output and "FAIL" not in output:
        rejected += 1  # a located spec error, e.g. a schedule crossing pages
    else:
        failed += 1
        print("FAILED: %s\n%s\n%s" % (" ".join(command), "\n".join(lines),
                                      output[-2000:]))
print("random specs: %d passed, %d rejected, %d failed"
      % (passed, rejected, failed))
sys.exit(1 if failed else 0)
