#!/usr/bin/env python3
"""Build the compact benchmark tables that the nasc runtime embeds (tabular evaluators).

Usage (from the repository root):
    python3 runtime/data/make_tables.py ../shared/data

Writes, next to this script:
    nb201.bin, nas_bench_macro.bin, channel_bench_macro_mobilenet.bin,
    channel_bench_macro_resnet.bin, PROVENANCE.md

Format of every .bin (little-endian), read by runtime/src/eval/table.rs:
    8 bytes   magic b"NASCTBL1"
    u32       number of rows
    u32       number of columns
    per column: u16 name length, name bytes (ASCII)
    zero padding to a multiple of 8 bytes
    columns one after the other (column-major), each `rows` IEEE-754 f64 values
Missing values (a seed that was not run) are NaN.

Row order:
    nb201: the official NAS-Bench-201 index 0..15624; column `ops_code` is the base-5 number of
        the 6 op digits (edge order (0->1),(0->2),(1->2),(0->3),(1->3),(2->3), edge 0 most
        significant; ops 0=none 1=skip_connect 2=nor_conv_1x1 3=nor_conv_3x3 4=avg_pool_3x3).
    nas_bench_macro: arch digits (0..2) read as a base-3 number (row i = arch with value i).
    channel_bench_macro_*: arch digits d (1..4), (d-1) read as a base-4 number.
Values are the source numbers converted with float(); the script checks that every value
round-trips (float -> text with the source's decimals) exactly.
Standard library only; deterministic output.
"""

import argparse
import csv
import hashlib
import math
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FAILURES = []


def check(cond, msg):
    if not cond:
        FAILURES.append(msg)
        print("FAIL: " + msg)
    return cond


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def num(text):
    if text == "" or text is None:
        return float("nan")
    v = float(text)
    # exact round trip at the source's precision
    if "." in text:
        decimals = len(text.split(".")[1])
        check(("%.*f" % (decimals, v)) == text, "value %r does not round-trip" % text)
    return v


def write_bin(path, columns):
    names = list(columns.keys())
    rows = len(columns[names[0]])
    for n in names:
        check(len(columns[n]) == rows, "column %s has %d rows, expected %d" % (n, len(columns[n]), rows))
    head = bytearray(b"NASCTBL1")
    head += struct.pack("<II", rows, len(names))
    for n in names:
        b = n.encode("ascii")
        head += struct.pack("<H", len(b)) + b
    while len(head) % 8:
        head += b"\0"
    with open(path, "wb") as f:
        f.write(head)
        for n in names:
            f.write(struct.pack("<%dd" % rows, *columns[n]))
    return rows


def read_bin(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"NASCTBL1"
    rows, ncols = struct.unpack_from("<II", data, 8)
    off = 16
    names = []
    for _ in range(ncols):
        (ln,) = struct.unpack_from("<H", data, off)
        names.append(data[off + 2: off + 2 + ln].decode("ascii"))
        off += 2 + ln
    off = (off + 7) // 8 * 8
    cols = {}
    for n in names:
        cols[n] = struct.unpack_from("<%dd" % rows, data, off)
        off += 8 * rows
    return cols


OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]


def nb201(src, out):
    tss = read_csv(os.path.join(src, "nas-bench-201", "nb201_tss.csv"))
    seeds = read_csv(os.path.join(src, "nas-bench-201", "nb201_tss_200ep_per_seed.csv"))
    n = len(tss)
    check(n == 15625, "nb201 rows %d" % n)
    cols = {"ops_code": []}
    plain = [
        ("c10_valid_200", "cifar10_valid_200"), ("c10_test_200", "cifar10_test_200"),
        ("c100_valid_200", "cifar100_valid_200_derived"), ("c100_test_200", "cifar100_test_200"),
        ("in16_valid_200", "imagenet16_valid_200_derived"), ("in16_test_200", "imagenet16_test_200"),
        ("c100_valtest_200", "cifar100_valtest_200"), ("in16_valtest_200", "imagenet16_valtest_200"),
        ("c10_valid_12", "cifar10_valid_12"), ("c10_test_12", "cifar10_test_12"),
        ("c100_valid_12", "cifar100_valid_12"), ("c100_test_12", "cifar100_test_12"),
        ("in16_valid_12", "imagenet16_valid_12"), ("in16_test_12", "imagenet16_test_12"),
        ("c10_time_200", "cifar10_valid_train_time_200_s"), ("c100_time_200", "cifar100_train_time_200_s"),
        ("in16_time_200", "imagenet16_train_time_200_s"),
    ]
    for dst, _ in plain:
        cols[dst] = []
    for i, r in enumerate(tss):
        check(int(r["index"]) == i, "nb201 index order at row %d" % i)
        # ops digits from the arch string (and cross-check the ops column)
        parts = [p for p in r["arch_str"].split("|") if p and p != "+"]
        digits = [OPS.index(p.split("~")[0]) for p in parts]
        check(len(digits) == 6, "arch_str %s" % r["arch_str"])
        check("".join(str(d) for d in digits) == r["ops"].zfill(6), "ops column at %d" % i)
        code = 0
        for d in digits:
            code = code * 5 + d
        cols["ops_code"].append(float(code))
        for dst, srcc in plain:
            cols[dst].append(num(r[srcc]))
    check(len(set(cols["ops_code"])) == n, "nb201 ops codes not distinct")
    per = {}
    for ds, short in [("cifar10-valid", "c10_valid"), ("cifar100", "c100_valtest"), ("ImageNet16-120", "in16_valtest")]:
        for s in range(3):
            per[(ds, s)] = "%s_seed%d" % (short, s)
            cols[per[(ds, s)]] = [float("nan")] * n
    for r in seeds:
        key = (r["dataset"], int(r["seed_pos"]))
        check(key in per, "unknown per-seed key %r" % (key,))
        cols[per[key]][int(r["index"])] = num(r["accuracy"])
    # the per-seed numbers average to the table's means (2 or 3 seeds)
    bad = 0
    for i, r in enumerate(tss):
        k = int(r["n_seeds_200"])
        for short, mean in [("c10_valid", "c10_valid_200"), ("c100_valtest", "c100_valtest_200"), ("in16_valtest", "in16_valtest_200")]:
            vals = [cols["%s_seed%d" % (short, s)][i] for s in range(3)]
            have = [v for v in vals if not math.isnan(v)]
            if len(have) != k or abs(sum(have) / k - cols[mean][i]) > 1e-5:
                bad += 1
    check(bad == 0, "nb201 per-seed values do not average to the means in %d cases" % bad)
    rows = write_bin(out, cols)
    return rows, [os.path.join("nas-bench-201", "nb201_tss.csv"), os.path.join("nas-bench-201", "nb201_tss_200ep_per_seed.csv")]


def macro(src, out, folder, fname, base, first_digit, ndigits):
    rows_in = read_csv(os.path.join(src, folder, fname))
    n = len(rows_in)
    check(n == base ** ndigits, "%s rows %d" % (fname, n))
    cols = {c: [float("nan")] * n for c in ["acc_seed0", "acc_seed1", "acc_seed2", "acc_mean", "acc_std"]}
    seen = set()
    for r in rows_in:
        a = r["arch"]
        check(len(a) == ndigits, "arch %s" % a)
        i = 0
        for ch in a:
            d = int(ch) - first_digit
            check(0 <= d < base, "arch %s" % a)
            i = i * base + d
        seen.add(i)
        for s in range(3):
            cols["acc_seed%d" % s][i] = num(r["test_acc_seed%d" % s])
        cols["acc_mean"][i] = num(r["mean_test_acc"])
        cols["acc_std"][i] = num(r["std_test_acc"])
    check(len(seen) == n, "%s keys not distinct" % fname)
    return write_bin(out, cols), [os.path.join(folder, fname)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("shared_data")
    args = ap.parse_args()
    src = args.shared_data
    outs = [
        ("nb201.bin", lambda o: nb201(src, o)),
        ("nas_bench_macro.bin", lambda o: macro(src, o, "nas-bench-macro", "nas_bench_macro_cifar10.csv", 3, 0, 8)),
        ("channel_bench_macro_mobilenet.bin", lambda o: macro(src, o, "channel-bench-macro", "channel_bench_macro_mobilenet_cifar10.csv", 4, 1, 7)),
        ("channel_bench_macro_resnet.bin", lambda o: macro(src, o, "channel-bench-macro", "channel_bench_macro_resnet_cifar10.csv", 4, 1, 7)),
    ]
    made, sources = [], []
    for name, fn in outs:
        path = os.path.join(HERE, name)
        rows, srcs = fn(path)
        back = read_bin(path)
        check(all(len(v) == rows for v in back.values()), "%s re-read" % name)
        made.append((name, rows, len(back), os.path.getsize(path), sha256(path), list(back.keys())))
        for s in srcs:
            p = os.path.join(src, s)
            if s not in [x[0] for x in sources]:
                sources.append((s, os.path.getsize(p), sha256(p)))
    if FAILURES:
        print("%d check(s) failed" % len(FAILURES))
        sys.exit(1)
    lines = [
        "# Provenance of the embedded benchmark tables in runtime/data/",
        "",
        "GENERATED by `runtime/data/make_tables.py` - do not edit by hand; edit the script and re-run:",
        "",
        "    python3 runtime/data/make_tables.py ../shared/data",
        "",
        "(from the repository root; the argument is the project's read-only shared data directory).",
        "The runtime embeds these files with `include_bytes!` (runtime/src/eval/table.rs); it never",
        "reads `../shared` at run time. Format: see the script's docstring (little-endian f64",
        "columns, NaN = missing). The numbers are the benchmark authors' own, unchanged; the",
        "sources and their provenance are described in `../shared/data/*/SOURCE.md`.",
        "",
        "| file | rows | columns | bytes | sha256 |",
        "|---|---|---|---|---|",
    ]
    for name, rows, ncols, size, digest, _ in made:
        lines.append("| `%s` | %d | %d | %d | `%s` |" % (name, rows, ncols, size, digest))
    lines += ["", "Columns:", ""]
    for name, _, _, _, _, cols in made:
        lines.append("- `%s`: %s" % (name, ", ".join("`%s`" % c for c in cols)))
    lines += [
        "",
        "Meaning (NB201; `c10`/`c100`/`in16` = CIFAR-10 / CIFAR-100 / ImageNet16-120):",
        "",
        "- `*_valid_200`, `*_test_200`: 200-epoch validation and test accuracy (%), mean over seeds.",
        "  CIFAR-10 validation is the `cifar10-valid` x-valid split; CIFAR-10 test is the `cifar10`",
        "  (train+valid) model on the test set; CIFAR-100 / ImageNet16-120 validation is the derived",
        "  x-valid (`2*valtest - test`, see SOURCE.md).",
        "- `*_valtest_200`: accuracy on the whole original test set (x-valid + x-test), mean over seeds.",
        "- `*_12`: the 12-epoch (`hp='12'`) schedule, final epoch, mean over seeds.",
        "- `*_time_200`: `train-all-time` of the 200-epoch run (seconds).",
        "- `c10_valid_seed{0,1,2}`, `c100_valtest_seed*`, `in16_valtest_seed*`: one training seed",
        "  (777, 888, 999) each, 200 epochs; NaN where the benchmark ran only 2 seeds.",
        "",
        "NAS-Bench-Macro / Channel-Bench-Macro: `acc_seed{0,1,2}` test accuracy of each of the three",
        "trainings, `acc_mean`, `acc_std` as given by the source (CIFAR-10).",
        "",
        "Source files (read-only, relative to the shared data directory):",
        "",
        "| source file | bytes | sha256 |",
        "|---|---|---|",
    ]
    for s, size, digest in sources:
        lines.append("| `%s` | %d | `%s` |" % (s, size, digest))
    lines.append("")
    with open(os.path.join(HERE, "PROVENANCE.md"), "w") as f:
        f.write("\n".join(lines))
    print("ok: " + ", ".join("%s (%d rows)" % (m[0], m[1]) for m in made))


if __name__ == "__main__":
    main()
