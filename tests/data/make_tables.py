#!/usr/bin/env python3
"""Build the compact benchmark cost tables used by the nasc test suite.

Usage:
    python3 tests/data/make_tables.py SHARED_DATA_DIR [--out OUT_DIR]

SHARED_DATA_DIR is the read-only data directory of the project (normally
../shared/data seen from the repository root); it must contain the folders
nas-bench-201/, nas-bench-macro/ and channel-bench-macro/.  OUT_DIR defaults to
the directory of this script (tests/data/).

Writes, in OUT_DIR:
    nb201_cost.csv
    nas_bench_macro_cost.csv
    channel_bench_macro_mobilenet_cost.csv
    channel_bench_macro_resnet_cost.csv
    PROVENANCE.md

and verifies, on the produced tables, the closed-form params/FLOPs counts stated
in the NETWORK.md files of the source folders.  Exits non-zero if any conversion
or verification check fails.  Standard library only; deterministic output
(plain CSV, '\n' line endings, no timestamps).
"""

import argparse
import csv
import hashlib
import itertools
import os
import sys
from collections import defaultdict
from decimal import Decimal

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


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow(r)


def millions_to_int(s, what):
    """'0.129306' (millions) -> 129306, exact.

    Checked two ways: the decimal string times 10^6 is an integer (exact,
    Decimal arithmetic), and float(s) * 1e6 is within 1e-6 of that integer.
    """
    d = Decimal(s) * 1000000
    check(d == d.to_integral_value(), f"{what}: {s} M is not an integer count")
    n = int(d.to_integral_value())
    x = float(s) * 1e6
    check(abs(x - round(x)) <= 1e-6 and round(x) == n,
          f"{what}: float({s})*1e6 = {x!r} not within 1e-6 of integer {n}")
    return n


# --------------------------------------------------------------------------
# NAS-Bench-201
# --------------------------------------------------------------------------

NB201_OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]

# NETWORK.md, "Known data problem in nb201_tss.csv": the 150 rows whose *_params_M
# come from corrupt hp=200 cost records (NATS-Bench issue #36).
NB201_CORRUPT = [
    327, 737, 768, 770, 775, 1151, 2958, 3034, 3077, 3103, 3113, 3400, 3681, 3899, 4024, 4070,
    4137, 4165, 4227, 4248, 4464, 4578, 4650, 4815, 4982, 5010, 5065, 5694, 5751, 5824, 5835, 6545,
    6547, 6769, 6877, 6912, 6977, 7263, 7268, 7326, 7358, 7396, 7629, 7717, 7785, 7793, 7894, 7950,
    7981, 8181, 8280, 8322, 8423, 8447, 8533, 8540, 8557, 8719, 8809, 8965, 9043, 9141, 9172, 9270,
    9296, 9444, 9473, 9597, 9632, 9654, 9735, 10107, 10118, 10162, 10167, 10207, 10212, 10281,
    10308, 10340, 10369, 10597, 10709, 10821, 10906, 10947, 10978, 11073, 11096, 11167, 11222,
    11238, 11259, 11370, 11374, 11511, 11514, 11581, 11676, 11843, 11911, 11961, 11964, 12016,
    12121, 12187, 12204, 12271, 12316, 12317, 12464, 12540, 12542, 12568, 12707, 12748, 12822,
    12844, 12939, 13003, 13223, 13326, 13479, 13492, 13599, 13970, 14264, 14267, 14293, 14412,
    14419, 14529, 14648, 14661, 14684, 14689, 14995, 15033, 15036, 15040, 15107, 15347, 15372,
    15386, 15392, 15403, 15435, 15474, 15484, 15539,
]

# dataset tag -> (number of classes K, input side)
NB201_DATASETS = [("c10", 10, 32), ("c100", 100, 32), ("img16", 120, 16)]

# Published figures (NETWORK.md / SOURCE.md of nas-bench-201), as printed (millions).
NB201_PUBLISHED_FLOPS_RANGE = {
    "c10": ("7.78305", "220.11969"),
    "c100": ("7.7889", "220.12554"),
    "img16": ("1.9534", "55.03756"),
}
NB201_PUBLISHED_PARAMS_RANGE = {
    "c10": ("0.073306", "1.531546"),
    "c100": ("0.079156", "1.537396"),
    "img16": ("0.080456", "1.538696"),
}
NB201_INDEX0_FLOPS = {"c10": "15.64737", "c100": "15.65322", "img16": "3.91948"}
# NETWORK.md "Worked examples": index -> {ds: (params, FLOPs in M)}
NB201_WORKED = {
    0: {"c10": (129306, "15.64737"), "c100": (135156, "15.65322"), "img16": (136456, "3.91948")},
    15474: {"c10": (802426, "113.95137"), "c100": (808276, "113.95722"), "img16": (809576, "28.49548")},
    9930: {"c10": (1288506, "184.73025"), "c100": (1294356, "184.73610"), "img16": (1295656, "46.19020")},
}


def m_to_int(s):
    return int(Decimal(s) * 1000000)


def nb201_parse_arch(arch_str):
    """'|op~0|+|op~0|op~1|+|op~0|op~1|op~2|' -> 6 op names in edge order
    (0->1), (0->2), (1->2), (0->3), (1->3), (2->3)."""
    nodes = arch_str.split("+")
    assert len(nodes) == 3, arch_str
    ops = []
    for j, node in enumerate(nodes, start=1):
        parts = [p for p in node.split("|") if p]
        assert len(parts) == j, arch_str
        for i, p in enumerate(parts):
            op, src = p.split("~")
            assert int(src) == i and op in NB201_OPS, arch_str
            ops.append(op)
    return ops


def nb201_skeleton_from_description(side):
    """Recompute the closed-form constants from the skeleton description in
    NETWORK.md (C = 16, N = 5), for an input of side x side.
    Returns (params_skeleton_without_classifier, flops_skeleton_without_classifier,
             params_per_1x1_edge, flops_per_1x1_edge, params_per_3x3_edge, flops_per_3x3_edge)."""
    p = f = 0
    # stem conv 3x3 3->16 + BN
    p += 3 * 16 * 9 + 2 * 16
    f += 3 * 16 * 9 * side * side
    s = side
    for cin in (16, 32):  # two reduction blocks
        cout = 2 * cin
        s //= 2
        p += cin * cout * 9 + 2 * cout        # ReLUConvBN 3x3 stride 2
        f += cin * cout * 9 * s * s
        p += cout * cout * 9 + 2 * cout       # ReLUConvBN 3x3 stride 1
        f += cout * cout * 9 * s * s
        p += cin * cout                       # shortcut: avgpool (0 FLOPs) + conv 1x1, no BN
        f += cin * cout * s * s
    p += 2 * 64                               # last BN
    p1 = f1 = p3 = f3 = 0
    s = side
    for c in (16, 32, 64):
        p1 += 5 * (c * c + 2 * c)
        f1 += 5 * (c * c * s * s)
        p3 += 5 * (9 * c * c + 2 * c)
        f3 += 5 * (9 * c * c * s * s)
        s //= 2
    return p, f, p1, f1, p3, f3


def nb201_params(K, n1, n3):
    return 72656 + 65 * K + 28000 * n1 + 243040 * n3


def nb201_flops(K, side, n1, n3):
    if side == 32:
        return 7782400 + 65 * K + 3932160 * n1 + 35389440 * n3
    assert side == 16
    return 1945600 + 65 * K + 983040 * n1 + 8847360 * n3


def build_nb201(src_dir, out_dir, summary):
    tss_path = os.path.join(src_dir, "nb201_tss.csv")
    fl_path = os.path.join(src_dir, "nb201_flops_derived.csv")
    tss = read_csv(tss_path)
    fl = read_csv(fl_path)
    check(len(tss) == 15625, f"nb201_tss.csv has {len(tss)} rows, expected 15625")
    check(len(fl) == 15625, f"nb201_flops_derived.csv has {len(fl)} rows, expected 15625")

    header = ["index", "arch_str", "ops", "params_c10", "params_c100", "params_img16", "corrupt",
              "flops_c10", "flops_c100", "flops_img16", "unique_str"]
    rows = []
    recs = []
    for i, (t, g) in enumerate(zip(tss, fl)):
        check(int(t["index"]) == i, f"nb201_tss.csv row {i} has index {t['index']}")
        check(int(g["index"]) == i, f"nb201_flops_derived.csv row {i} has index {g['index']}")
        check(t["arch_str"] == g["arch_str"], f"index {i}: arch_str differs between the two files")
        ops = nb201_parse_arch(t["arch_str"])
        ops_digits = "".join(str(NB201_OPS.index(o)) for o in ops)
        check(ops_digits == t["ops"], f"index {i}: ops {t['ops']} != {ops_digits} from arch_str")
        check(t["params_record_corrupt"] in ("0", "1"), f"index {i}: corrupt flag {t['params_record_corrupt']!r}")
        for bad in (",", '"', "\n"):
            check(bad not in t["arch_str"] + t["unique_str"], f"index {i}: field needs CSV quoting")
        params = {
            "c10": millions_to_int(t["cifar10_params_M"], f"index {i} cifar10_params_M"),
            "c100": millions_to_int(t["cifar100_params_M"], f"index {i} cifar100_params_M"),
            "img16": millions_to_int(t["imagenet16_params_M"], f"index {i} imagenet16_params_M"),
        }
        flops = {
            "c10": millions_to_int(g["cifar10_flops_M"], f"index {i} cifar10_flops_M"),
            "c100": millions_to_int(g["cifar100_flops_M"], f"index {i} cifar100_flops_M"),
            "img16": millions_to_int(g["imagenet16_flops_M"], f"index {i} imagenet16_flops_M"),
        }
        corrupt = int(t["params_record_corrupt"])
        rows.append([i, t["arch_str"], t["ops"], params["c10"], params["c100"], params["img16"], corrupt,
                     flops["c10"], flops["c100"], flops["img16"], t["unique_str"]])
    out_path = os.path.join(out_dir, "nb201_cost.csv")
    write_csv(out_path, header, rows)

    # ---- verification on the produced table (re-read from disk) ----
    prod = read_csv(out_path)
    check(list(prod[0].keys()) == header, "nb201_cost.csv header")
    n = len(prod)
    n_corrupt = sum(r["corrupt"] == "1" for r in prod)
    check(n == 15625, f"nb201_cost.csv: {n} rows")
    check(n_corrupt == 150, f"nb201_cost.csv: {n_corrupt} corrupt rows, expected 150")
    check(n - n_corrupt == 15475, f"nb201_cost.csv: {n - n_corrupt} non-corrupt rows, expected 15475")
    corrupt_set = sorted(int(r["index"]) for r in prod if r["corrupt"] == "1")
    check(corrupt_set == NB201_CORRUPT, "corrupt flag set != the 150 indices listed in NETWORK.md")
    check(len(set(r["arch_str"] for r in prod)) == 15625, "arch_str not distinct")
    n_unique = len(set(r["unique_str"] for r in prod))
    check(n_unique == 6466, f"{n_unique} distinct unique_str, expected 6466")

    # closed-form constants re-derived from the skeleton description
    for side in (32, 16):
        p, f, p1, f1, p3, f3 = nb201_skeleton_from_description(side)
        check((p, p1, p3) == (72656, 28000, 243040), f"NB201 params constants from description: {(p, p1, p3)}")
        want = (7782400, 3932160, 35389440) if side == 32 else (1945600, 983040, 8847360)
        check((f, f1, f3) == want, f"NB201 FLOPs constants from description (side {side}): {(f, f1, f3)}")

    stats = {}
    for ds, K, side in NB201_DATASETS:
        pm_clean = pm_corrupt = fm = 0
        corrupt_is_valid_count = 0
        for r in prod:
            n1 = r["ops"].count("2")
            n3 = r["ops"].count("3")
            p = int(r[f"params_{ds}"])
            if r["corrupt"] == "0":
                pm_clean += p == nb201_params(K, n1, n3)
            else:
                pm_corrupt += p == nb201_params(K, n1, n3)
                # the wrong value is a valid NB201 count of some (n1', n3')
                corrupt_is_valid_count += any(p == nb201_params(K, a, b)
                                              for a in range(7) for b in range(7 - a))
            fm += int(r[f"flops_{ds}"]) == nb201_flops(K, side, n1, n3)
        stats[ds] = (pm_clean, pm_corrupt, fm, corrupt_is_valid_count)
        check(pm_clean == 15475, f"NB201 {ds}: params closed form matches {pm_clean}/15475 non-corrupt rows")
        check(pm_corrupt == 0, f"NB201 {ds}: params closed form matches {pm_corrupt}/150 corrupt rows (expected 0)")
        check(fm == 15625, f"NB201 {ds}: FLOPs closed form matches {fm}/15625 rows")
        check(corrupt_is_valid_count == 150, f"NB201 {ds}: {corrupt_is_valid_count}/150 corrupt params are valid NB201 counts")
        # published FLOPs range and index 0
        fl_all = [int(r[f"flops_{ds}"]) for r in prod]
        lo, hi = NB201_PUBLISHED_FLOPS_RANGE[ds]
        check(min(fl_all) == m_to_int(lo) and max(fl_all) == m_to_int(hi),
              f"NB201 {ds}: FLOPs range {min(fl_all)}..{max(fl_all)} != published {lo}..{hi} M")
        check(fl_all[0] == m_to_int(NB201_INDEX0_FLOPS[ds]),
              f"NB201 {ds}: index-0 FLOPs {fl_all[0]} != published {NB201_INDEX0_FLOPS[ds]} M")
        # classifier bias: without its K FLOPs the published min would not be hit
        check(min(fl_all) - K != m_to_int(lo), f"NB201 {ds}: bias convention not pinned")
        # params range over clean rows equals the published range
        pa = [int(r[f"params_{ds}"]) for r in prod if r["corrupt"] == "0"]
        lo, hi = NB201_PUBLISHED_PARAMS_RANGE[ds]
        check(min(pa) == m_to_int(lo) and max(pa) == m_to_int(hi),
              f"NB201 {ds}: params range {min(pa)}..{max(pa)} != published {lo}..{hi} M")
        for idx, vals in NB201_WORKED.items():
            r = prod[idx]
            n1, n3 = r["ops"].count("2"), r["ops"].count("3")
            wp, wf = vals[ds]
            check(nb201_params(K, n1, n3) == wp, f"NB201 index {idx} {ds}: closed-form params != worked example {wp}")
            check(int(r[f"flops_{ds}"]) == m_to_int(wf), f"NB201 index {idx} {ds}: FLOPs != worked example {wf}")
            if r["corrupt"] == "0":
                check(int(r[f"params_{ds}"]) == wp, f"NB201 index {idx} {ds}: params != worked example {wp}")
    check(prod[15474]["params_c10"] == "559386", "NB201 index 15474: expected the corrupt value 559386")
    for idx in (15474, 7268, 15033):
        check(prod[idx]["corrupt"] == "1", f"NB201 index {idx} (named in NATS-Bench issue #36) not flagged")

    # informational: isomorphism classes vs cost
    cls = defaultdict(set)
    for r in prod:
        cls[r["unique_str"]].add((r["ops"].count("2"), r["ops"].count("3")))
    const_cost = sum(len(v) == 1 for v in cls.values())

    summary.append("NB201 nb201_cost.csv: %d rows, %d corrupt, %d not" % (n, n_corrupt, n - n_corrupt))
    for ds, K, side in NB201_DATASETS:
        pc, pcc, fm, cv = stats[ds]
        summary.append("  %-5s (K=%3d, %dx%d): params closed form %d/15475 non-corrupt rows "
                       "(%d/150 corrupt rows; all 150 corrupt values are valid NB201 counts: %d/150); "
                       "FLOPs closed form %d/15625; published FLOPs min/max and index-0 equal"
                       % (ds, K, side, side, pc, pcc, cv, fm))
    summary.append("  %d distinct unique_str; %d of them have constant (n1, n3), i.e. constant params/FLOPs "
                   "(NB201 counts unreachable edges, so isomorphic cells can differ in cost)"
                   % (len(cls), const_cost))
    return {"tss": tss_path, "flops": fl_path, "out": out_path, "rows": n, "corrupt": n_corrupt,
            "stats": stats, "unique": len(cls), "unique_const": const_cost}


# --------------------------------------------------------------------------
# NAS-Bench-Macro
# --------------------------------------------------------------------------

# NETWORK.md "Per-layer cost table": layer -> {digit: (params, flops)}
MACRO_TABLE = [
    {0: (2176, 524288), 1: (10592, 4939776), 2: (24128, 10665984)},
    {0: (0, 0), 1: (27200, 6733824), 2: (60416, 15040512)},
    {0: (8448, 524288), 1: (39616, 4829184), 2: (85120, 10051584)},
    {0: (0, 0), 1: (103552, 6512640), 2: (219136, 13811712)},
    {0: (0, 0), 1: (103552, 6512640), 2: (219136, 13811712)},
    {0: (33280, 524288), 1: (152960, 4773888), 2: (317696, 9744384)},
    {0: (0, 0), 1: (403712, 6402048), 2: (831488, 13197312)},
    {0: (0, 0), 1: (403712, 6402048), 2: (831488, 13197312)},
]
MACRO_FIXED = (343978, 6140416)
MACRO_WORKED = {"00000000": (387882, 7713280), "02012100": (890666, 47327744),
                "22212202": (1985514, 85164544), "22222222": (2932586, 105660928)}


def macro_table_from_description():
    """Recompute the per-layer table and the fixed part from the block description."""
    layers = [(32, 64, 2, 32), (64, 64, 1, 16), (64, 128, 2, 16), (128, 128, 1, 8), (128, 128, 1, 8),
              (128, 256, 2, 8), (256, 256, 1, 4), (256, 256, 1, 4)]  # cin, cout, stride, input side
    table = []
    for cin, cout, s, side in layers:
        so = side // s
        row = {}
        if s == 1:
            row[0] = (0, 0)
        else:
            row[0] = (cin * cout + 2 * cout, cin * cout * so * so)
        for d, (t, k) in ((1, (3, 3)), (2, (6, 5))):
            h = t * cin
            p = cin * h + 2 * h + h * k * k + 2 * h + h * cout + 2 * cout
            f = cin * h * side * side + h * k * k * so * so + h * cout * so * so
            row[d] = (p, f)
        table.append(row)
    fixed_p = (3 * 32 * 9 + 64) + (256 * 1280 + 2 * 1280) + (1280 * 10 + 10)
    fixed_f = 3 * 32 * 9 * 32 * 32 + 256 * 1280 * 4 * 4 + 1280 * 10
    return table, (fixed_p, fixed_f)


def macro_cost(arch, bias=False):
    p, f = MACRO_FIXED
    for i, ch in enumerate(arch):
        lp, lf = MACRO_TABLE[i][int(ch)]
        p += lp
        f += lf
    return p, f + (10 if bias else 0)


def build_macro(src_dir, out_dir, summary):
    src = os.path.join(src_dir, "nas_bench_macro_cifar10.csv")
    data = read_csv(src)
    check(len(data) == 6561, f"nas_bench_macro_cifar10.csv has {len(data)} rows")
    rows = []
    for r in data:
        check(len(r["arch"]) == 8 and set(r["arch"]) <= set("012"), f"macro arch {r['arch']!r}")
        rows.append([r["arch"], int(r["params"]), int(r["flops"])])
        check(str(rows[-1][1]) == r["params"] and str(rows[-1][2]) == r["flops"], f"macro {r['arch']}: non-integer cost")
    out_path = os.path.join(out_dir, "nas_bench_macro_cost.csv")
    write_csv(out_path, ["arch", "params", "flops"], rows)

    prod = read_csv(out_path)
    archs = [r["arch"] for r in prod]
    check(archs == sorted(archs) and set(archs) == {"".join(t) for t in itertools.product("012", repeat=8)},
          "macro: arch column is not all 3^8 strings in sorted order")
    tab, fixed = macro_table_from_description()
    check(tab == MACRO_TABLE and fixed == MACRO_FIXED, "macro: per-layer table != block description")
    pm = sum(int(r["params"]) == macro_cost(r["arch"])[0] for r in prod)
    fm = sum(int(r["flops"]) == macro_cost(r["arch"])[1] for r in prod)
    fb = sum(int(r["flops"]) == macro_cost(r["arch"], bias=True)[1] for r in prod)
    check(pm == 6561, f"macro: params per-layer table matches {pm}/6561")
    check(fm == 6561, f"macro: FLOPs per-layer table matches {fm}/6561")
    check(fb == 0, f"macro: FLOPs with classifier bias matches {fb}/6561 (expected 0)")
    byarch = {r["arch"]: (int(r["params"]), int(r["flops"])) for r in prod}
    for a, v in MACRO_WORKED.items():
        check(byarch[a] == v, f"macro worked example {a}: {byarch[a]} != {v}")
    summary.append("NAS-Bench-Macro nas_bench_macro_cost.csv: %d rows; per-layer table params %d/6561, "
                   "FLOPs %d/6561; with classifier bias added to FLOPs %d/6561" % (len(prod), pm, fm, fb))
    return {"src": src, "out": out_path, "rows": len(prod), "pm": pm, "fm": fm, "fb": fb}


# --------------------------------------------------------------------------
# Channel-Bench-Macro
# --------------------------------------------------------------------------

CH_WMAX = {"mobilenet": [128, 768, 768, 768, 256, 1536, 1024],
           "resnet": [256, 256, 256, 512, 512, 512, 512]}
CH_WORKED = {
    "mobilenet": {"1111111": (125418, 14285312), "4444342": (1388170, 185062400), "4444444": (1804170, 211281920)},
    "resnet": {"1111111": (963658, 90096896), "4344424": (12701322, 1209734144), "4444444": (15356170, 1436226560)},
}


def ch_widths(space, arch):
    ws = []
    for d, wm in zip(arch, CH_WMAX[space]):
        assert wm % 4 == 0
        ws.append(int(d) * wm // 4)
    return ws


def ch_cost(space, arch, bias=False):
    w1, w2, w3, w4, w5, w6, w7 = ch_widths(space, arch)
    if space == "mobilenet":
        parts = [
            (29 * w1, 27 * 256 * w1),
            (2 * w1 * w2 + 13 * w2 + 2 * w1, 256 * (2 * w1 * w2 + 9 * w2)),
            (2 * w1 * w3 + 13 * w3 + 2 * w1, 256 * (2 * w1 * w3 + 9 * w3)),
            (w1 * w4 + 13 * w4 + w4 * w5 + 2 * w5, 256 * w1 * w4 + 64 * 9 * w4 + 64 * w4 * w5),
            (2 * w5 * w6 + 13 * w6 + 2 * w5, 64 * (2 * w5 * w6 + 9 * w6)),
            (w5 * w7 + 2 * w7, 64 * w5 * w7),
            (10 * w7 + 10, 10 * w7),
        ]
    else:
        parts = [
            (29 * w1, 27 * 256 * w1),
            (18 * w1 * w2 + 2 * w2 + 2 * w1, 256 * 18 * w1 * w2),
            (18 * w1 * w3 + 2 * w3 + 2 * w1, 256 * 18 * w1 * w3),
            (9 * w1 * w4 + 2 * w4 + 9 * w4 * w5 + 2 * w5, 64 * 9 * w1 * w4 + 64 * 9 * w4 * w5),
            (18 * w5 * w6 + 2 * w6 + 2 * w5, 64 * 18 * w5 * w6),
            (18 * w5 * w7 + 2 * w7 + 2 * w5, 64 * 18 * w5 * w7),
            (10 * w5 + 10, 10 * w5),
        ]
    return sum(p for p, _ in parts), sum(f for _, f in parts) + (10 if bias else 0)


def build_channel(src_dir, out_dir, space, summary):
    src = os.path.join(src_dir, f"channel_bench_macro_{space}_cifar10.csv")
    data = read_csv(src)
    check(len(data) == 16384, f"{src}: {len(data)} rows")
    rows = []
    for r in data:
        check(len(r["arch"]) == 7 and set(r["arch"]) <= set("1234"), f"channel {space} arch {r['arch']!r}")
        ratios = "|".join(str(int(d) / 4) for d in r["arch"])
        check(ratios == r["width_ratios"], f"channel {space} {r['arch']}: width_ratios {r['width_ratios']}")
        rows.append([r["arch"], int(r["params"]), int(r["flops"])])
        check(str(rows[-1][1]) == r["params"] and str(rows[-1][2]) == r["flops"], f"channel {space} {r['arch']}: non-integer cost")
    out_path = os.path.join(out_dir, f"channel_bench_macro_{space}_cost.csv")
    write_csv(out_path, ["arch", "params", "flops"], rows)

    prod = read_csv(out_path)
    archs = [r["arch"] for r in prod]
    check(archs == sorted(archs) and set(archs) == {"".join(t) for t in itertools.product("1234", repeat=7)},
          f"channel {space}: arch column is not all 4^7 strings in sorted order")
    pm = sum(int(r["params"]) == ch_cost(space, r["arch"])[0] for r in prod)
    fm = sum(int(r["flops"]) == ch_cost(space, r["arch"])[1] for r in prod)
    fb = sum(int(r["flops"]) == ch_cost(space, r["arch"], bias=True)[1] for r in prod)
    check(pm == 16384, f"channel {space}: params closed form matches {pm}/16384")
    check(fm == 16384, f"channel {space}: FLOPs closed form matches {fm}/16384")
    check(fb == 0, f"channel {space}: FLOPs with classifier bias matches {fb}/16384 (expected 0)")
    byarch = {r["arch"]: (int(r["params"]), int(r["flops"])) for r in prod}
    for a, v in CH_WORKED[space].items():
        check(byarch[a] == v, f"channel {space} worked example {a}: {byarch[a]} != {v}")
    summary.append("Channel-Bench-Macro %-9s channel_bench_macro_%s_cost.csv: %d rows; closed form params "
                   "%d/16384, FLOPs %d/16384; with classifier bias added to FLOPs %d/16384"
                   % (space, space, len(prod), pm, fm, fb))
    return {"src": src, "out": out_path, "rows": len(prod), "pm": pm, "fm": fm, "fb": fb}


# --------------------------------------------------------------------------
# PROVENANCE.md
# --------------------------------------------------------------------------

PROVENANCE_TEMPLATE = """\
# Provenance of the benchmark cost tables in tests/data/

GENERATED by `tests/data/make_tables.py` - do not edit by hand; edit the script and re-run:

    python3 tests/data/make_tables.py ../shared/data

(run from the repository root; the argument is the project's read-only shared data
directory, `../shared/data` relative to the repository root). The script uses only the Python
standard library, writes the tables below and this file, and re-verifies every closed form
listed here against the produced tables; it exits non-zero if any check fails. The tests read
only these files, never `../shared`.

All tables are plain, uncompressed CSV with a header row, `\\n` line endings and no quoting
(no field contains a comma or a quote). Architecture keys are strings: keep leading zeros
(`arch` of NAS-Bench-Macro starts with `0` for a third of the rows, NB201 `ops` for a fifth).
All params and FLOPs are absolute integer counts (not millions). One multiply-add = one FLOP.

| file | rows | bytes | sha256 |
|---|---|---|---|
{file_table}

Source files (read-only, paths relative to the repository root):

| source file | bytes | sha256 |
|---|---|---|
{source_table}

The upstream descriptions used here are `SOURCE.md` (where each number comes from) and
`NETWORK.md` (the exact network and counting rule) in each source folder; their hashes are in
the second table.

## Counting conventions (read before comparing a count)

* params = number of elements of every learnable tensor: conv weights, BatchNorm gamma and beta
  (2 per channel; running statistics are buffers and not counted), Linear weight and bias.
  Identical convention in all three benchmarks.
* FLOPs = multiply-accumulates of Conv2d and Linear layers only (Cout x Cin/groups x kh x kw x
  Hout x Wout at that conv's own output size; Linear in x out), batch 1.
  NOT counted anywhere: BN, ReLU, additions, the NB201 `none` op, pooling (all of it, including
  NB201 `avg_pool_3x3` edges and the 2x2 average pool of the NB201 reduction shortcut).
* **Classifier bias: NB201 COUNTS it in FLOPs** (Linear = 64 K + K, K = number of classes);
  **NAS-Bench-Macro and Channel-Bench-Macro do NOT** (Linear = in x 10). The published NB201
  minimum 7.78305 M (CIFAR-10) = 7,782,400 + 64 x 10 + 10 pins the NB201 rule; for the Macro
  benchmarks, adding the bias to the closed form matches 0 rows (checked by the script, below).
* NB201 counts all six edges of every cell, including edges whose result cannot reach the cell
  output, so params/FLOPs depend only on n1 = #nor_conv_1x1 edges and n3 = #nor_conv_3x3 edges.
  Consequence for isomorphism tests: of the {unique} isomorphism classes (`unique_str`),
  only {unique_const} have a single (n1, n3); the other {unique_nonconst} contain cells of different cost.

---

## 1. `nb201_cost.csv` - NAS-Bench-201 / NATS-Bench-TSS, 15,625 cells

Columns: `index,arch_str,ops,params_c10,params_c100,params_img16,corrupt,flops_c10,flops_c100,flops_img16,unique_str`

Made from two files in `{nb201_dir}`:

* `{nb201_tss}` (sha256 in the table above) - columns used:
  `index`, `arch_str`, `ops`, `unique_str`, `cifar10_params_M`, `cifar100_params_M`,
  `imagenet16_params_M`, `params_record_corrupt`. All accuracy / training-time columns are dropped.
* `{nb201_flops}` - columns used: `cifar10_flops_M`, `cifar100_flops_M`, `imagenet16_flops_M`
  (joined by `index`; the script asserts both files list index 0..15624 in order with the
  same `arch_str`).

Transformation:

* `params_<ds>` = the `<ds>_params_M` value (millions, 6 decimals) x 10^6 as an exact integer:
  computed with decimal arithmetic (the product must be an integer) and cross-checked as
  `round(float(M) * 1e6)` with `|float(M) * 1e6 - round(...)| <= 1e-6`, on every value.
* `flops_<ds>` = the `<ds>_flops_M` value x 10^6, same conversion and checks.
* `corrupt` = `params_record_corrupt` (0/1), unchanged.
* `arch_str`, `ops`, `unique_str` copied verbatim; `ops` is checked to equal the encoding of
  `arch_str` (6 digits, edge order (0->1),(0->2),(1->2),(0->3),(1->3),(2->3); op ids
  0 none, 1 skip_connect, 2 nor_conv_1x1, 3 nor_conv_3x3, 4 avg_pool_3x3). `unique_str` is the
  NATS-Bench `get_unique_str` isomorphism key ({unique} distinct values).
* Dataset tags: `c10` = CIFAR-10 (K = 10, 32 x 32 input; also "cifar10-valid"), `c100` =
  CIFAR-100 (K = 100, 32 x 32), `img16` = ImageNet16-120 (K = 120, 16 x 16).
* Rows: {nb201_rows} = {nb201_clean} with `corrupt = 0` + {nb201_corrupt} with `corrupt = 1`.

Upstream (as given in `nas-bench-201/SOURCE.md`; nothing was trained for this project):

* `index`, `arch_str`, `unique_str`: source A - GitHub `v-tao/nats-bench-landscape`, commit
  b307ae5fe6e8d7043cd4fe7d1c3532288271adb7 (file last changed in
  312680307c44fd111146b2be0d0148194fbb2ca8), file `nats_bench.csv` (sha256 cb5d777e...afa3e,
  abbreviated in SOURCE.md), produced with the official `nats_bench` API on NATS-tss-v1_0.
  **No license file in that repository.**
* `*_params_M`: source C - GitHub `nabenabe0928/constrained-tpe`, commit
  2476ed022c56c07856d19dc9f7636d20453f008c (file last changed in
  c561467817d7eb0bbeac876443726c228841c851), file `targets/nasbench201/metric_vals.pkl`
  (sha256 f912d67d...a2228, abbreviated in SOURCE.md); the NATS-Bench TSS `params` cost
  record at hp = "200". **License: Apache-2.0.**
* `ops` was computed from `arch_str` by the data preparer; `params_record_corrupt` was added by
  the data preparer after verification (see below).
* The original benchmarks: NAS-Bench-201 (Dong & Yang, ICLR 2020) / NATS-Bench (Dong et al.,
  TPAMI 2021), GitHub `D-X-Y/NATS-Bench`, `D-X-Y/AutoDL-Projects`.

### Published vs derived values - IMPORTANT

* **params**: published benchmark values (NATS-Bench cost records, via source C), except that
  150 rows carry wrong values (below).
* **FLOPs: NOT published. `nb201_flops_derived.csv` was computed by the data preparer of this
  project** with NB201's own counting rule (`get_model_infos` in
  `xautodl/utils/flop_benchmark.py`), described in `nas-bench-201/NETWORK.md`. The per-architecture
  benchmark FLOPs were not available as a table. The derived values agree with every published
  FLOPs figure that could be found (checked by the script on the produced table):
  * published range (min..max, millions): CIFAR-10 7.78305..220.11969,
    CIFAR-100 7.7889..220.12554, ImageNet16-120 1.9534..55.03756 (printed from the benchmark
    API in automl/MO-HPOBenchExperimentUtils README);
  * index 0: 15.64737 (CIFAR-10) / 15.65322 (CIFAR-100) / 3.91948 (ImageNet16-120) M
    (NATS-Bench issue #24; NASLib NB201 unit-test fixture: cifar10-valid flops 15.64737,
    params 0.129306);
  * index 15474, CIFAR-10: 113.95137 M FLOPs, 0.802426 M params (hp = 12 record, NATS-Bench
    issue #36).
  Other FLOPs counters (thop 16.46 M, ptflops 16.81 M for index 0; NASLib's zero-cost `flops`)
  use other conventions and do NOT reproduce these numbers.
* Published params range (millions), equal to the min/max of the non-corrupt rows here:
  CIFAR-10 0.073306..1.531546, CIFAR-100 0.079156..1.537396, ImageNet16-120 0.080456..1.538696.

### The 150 corrupt rows (`corrupt = 1`)

For 150 indices the `params_<ds>` values (all three datasets) do not belong to the
architecture: they come from corrupt hp = "200" cost records of NATS-Bench, the bug reported in
**D-X-Y/NATS-Bench issue #36** (labelled bug): those records hold params/FLOPs of other cells
(every wrong value is a valid NB201 count of some other (n1, n3), checked), while the hp = "12"
record is right. Example: index 15474 shows params_c10 = 559,386; its true count is 802,426
(the issue quotes 0.802426 M / 113.95137 M at hp 12, and a 3-seed hp-200 mean of 0.6404 =
(0.802426 + 2 x 0.559386) / 3). The three indices named in the issue (15474, 7268, 15033) are
among the 150. The flagged set equals the list in `nas-bench-201/NETWORK.md` (checked).
**Tests must compare params only on `corrupt = 0` rows** (or use the closed form below for
all rows). The FLOPs columns are derived from the architecture and are correct for all 15,625
rows, corrupt or not.

### Closed forms (from `nas-bench-201/NETWORK.md`; C = 16, N = 5 cells per stage)

n1 = number of `2` digits in `ops` (nor_conv_1x1), n3 = number of `3` digits (nor_conv_3x3).

* params = 72,656 + 65 K + 28,000 n1 + 243,040 n3
* FLOPs, 32 x 32 input (CIFAR-10/100) = 7,782,400 + 65 K + 3,932,160 n1 + 35,389,440 n3
* FLOPs, 16 x 16 input (ImageNet16-120) = 1,945,600 + 65 K + 983,040 n1 + 8,847,360 n3

(65 K = classifier 64 K weights + K bias; in FLOPs the K is the counted bias.) The script
also re-derives these constants from the layer-by-layer skeleton description. Worked examples:
index 0 (n1 = 2, n3 = 0) params 129,306 / 135,156 / 136,456, FLOPs 15,647,370 / 15,653,220 /
3,919,480; index 9930 (n1 = 0, n3 = 5, ResNet-like cell) params 1,288,506 / 1,294,356 /
1,295,656, FLOPs 184,730,250 / 184,736,100 / 46,190,200.

Verification on `nb201_cost.csv`:

| dataset | params = closed form, corrupt = 0 | params = closed form, corrupt = 1 | FLOPs = closed form | published FLOPs min/max, index 0 |
|---|---|---|---|---|
{nb201_verif}

---

## 2. `nas_bench_macro_cost.csv` - NAS-Bench-Macro (CIFAR-10), 6,561 networks

Columns: `arch,params,flops`. Made from `{macro_src}`, columns `arch`, `params`, `flops`
copied unchanged (already absolute integers; `ops`, accuracies dropped). Rows sorted by
`arch` as in the source: all 3^8 = {macro_rows} strings of 8 digits in {{0,1,2}}
(0 = identity, 1 = mb3_k3, 2 = mb6_k5), checked.

Upstream (as given in `nas-bench-macro/SOURCE.md`): GitHub `xiusu/NAS-Bench-Macro`, commit
61a2bfc2ca0dce04d0997e6cf498047c27d6acf2, file `data/nas-bench-macro_cifar10.json`
(sha256 686dee83...22297, abbreviated in SOURCE.md). **License: Apache-2.0.** params and
flops are the values published by the authors (Su et al., CVPR 2021), unchanged.

Closed form (`nas-bench-macro/NETWORK.md`): totals = fixed part (params 343,978, FLOPs
6,140,416: stem + 1x1 head 256 -> 1280 + classifier 1280 x 10 weights + 10 bias, bias not
in FLOPs) + one entry per searchable layer of the per-layer table (params / FLOPs):

| layer | digit 0 | digit 1 (t3 k3) | digit 2 (t6 k5) |
|---|---|---|---|
{macro_table}

The script re-derives this table from the block description (inverted residual with hidden
width t x Cin; identity = 1x1 stride-2 projection + BN at layers 1, 3, 6, true identity
elsewhere). Worked examples: 00000000 387,882 / 7,713,280 (smallest); 22212202 1,985,514 /
85,164,544; 22222222 2,932,586 / 105,660,928 (largest).

Verification on `nas_bench_macro_cost.csv`: params {macro_pm}/6,561, FLOPs {macro_fm}/6,561;
the same closed form with the classifier bias (+10) added to FLOPs matches {macro_fb}/6,561.

---

## 3. `channel_bench_macro_mobilenet_cost.csv` and `channel_bench_macro_resnet_cost.csv` - Channel-Bench-Macro (CIFAR-10), 16,384 networks each

Columns: `arch,params,flops`. Made from `{ch_mob_src}` and `{ch_res_src}`, columns `arch`,
`params`, `flops` copied unchanged (absolute integers; `width_ratios`, accuracies dropped).
Rows sorted by `arch` as in the sources: all 4^7 = 16,384 strings of 7 digits in {{1,2,3,4}},
checked; digit d means width ratio d / 4 (the dropped `width_ratios` column equals d / 4 on
every row, checked).

Upstream (as given in `channel-bench-macro/SOURCE.md`): GitHub `xiusu/Channel-Bench-Macro`,
commit 4ff596e814cc88cc9add77ff83fc1a2f05ee1fef, files `Results_MobileNet.json`
(sha256 f640474d...908e0) and `Results_ResNet.json` (sha256 bf13bcae...a7520; both abbreviated in
SOURCE.md). **No license file in the repository.** params and flops are the values published
by the authors (Su et al., BCNet / BCNetV2), unchanged.

Closed forms (`channel-bench-macro/NETWORK.md`; the repository README's network table does NOT
match the code that produced the numbers - the NETWORK.md description follows the code):
width wi = (di / 4) x Wmax_i, Wmax = 128, 768, 768, 768, 256, 1536, 1024 (MobileNet) and
256, 256, 256, 512, 512, 512, 512 (ResNet). 256 = 16 x 16 and 64 = 8 x 8 output positions.

MobileNet space:

| part | params | FLOPs |
|---|---|---|
| stem | 29 w1 | 27 x 256 x w1 |
| block 1 | 2 w1 w2 + 13 w2 + 2 w1 | 256 x (2 w1 w2 + 9 w2) |
| block 2 | 2 w1 w3 + 13 w3 + 2 w1 | 256 x (2 w1 w3 + 9 w3) |
| block 3 | w1 w4 + 13 w4 + w4 w5 + 2 w5 | 256 x w1 w4 + 64 x 9 w4 + 64 x w4 w5 |
| block 4 | 2 w5 w6 + 13 w6 + 2 w5 | 64 x (2 w5 w6 + 9 w6) |
| head | w5 w7 + 2 w7 | 64 x w5 w7 |
| classifier | 10 w7 + 10 | 10 w7 |

ResNet space:

| part | params | FLOPs |
|---|---|---|
| stem | 29 w1 | 27 x 256 x w1 |
| block 1 | 18 w1 w2 + 2 w2 + 2 w1 | 256 x 18 w1 w2 |
| block 2 | 18 w1 w3 + 2 w3 + 2 w1 | 256 x 18 w1 w3 |
| block 3 | 9 w1 w4 + 2 w4 + 9 w4 w5 + 2 w5 | 64 x 9 w1 w4 + 64 x 9 w4 w5 |
| block 4 | 18 w5 w6 + 2 w6 + 2 w5 | 64 x 18 w5 w6 |
| block 5 | 18 w5 w7 + 2 w7 + 2 w5 | 64 x 18 w5 w7 |
| classifier | 10 w5 + 10 | 10 w5 |

Worked examples: MobileNet 1111111 125,418 / 14,285,312, 4444444 1,804,170 / 211,281,920;
ResNet 1111111 963,658 / 90,096,896, 4444444 15,356,170 / 1,436,226,560.

Verification:

| table | params = closed form | FLOPs = closed form | FLOPs + classifier bias |
|---|---|---|---|
| mobilenet | {mob_pm}/16,384 | {mob_fm}/16,384 | {mob_fb}/16,384 |
| resnet | {res_pm}/16,384 | {res_fm}/16,384 | {res_fb}/16,384 |

---

## Licenses, summarised

| table | upstream license |
|---|---|
| nb201_cost.csv | params: Apache-2.0 (nabenabe0928/constrained-tpe); arch_str / unique_str: no license file (v-tao/nats-bench-landscape); FLOPs: computed for this project |
| nas_bench_macro_cost.csv | Apache-2.0 (xiusu/NAS-Bench-Macro) |
| channel_bench_macro_*_cost.csv | no license file (xiusu/Channel-Bench-Macro) |

The tables hold only architecture keys and cost counts (facts about the networks, all
reproducible from the closed forms above); no accuracies are copied.
"""


def write_provenance(out_dir, repo_root, nb, mac, mob, res, src_extra):
    def rel(p):
        return os.path.relpath(os.path.abspath(p), repo_root)

    outs = [nb["out"], mac["out"], mob["out"], res["out"]]
    rows = [nb["rows"], mac["rows"], mob["rows"], res["rows"]]
    file_table = "\n".join("| `%s` | %d | %d | `%s` |" % (os.path.basename(p), r, os.path.getsize(p), sha256(p))
                           for p, r in zip(outs, rows))
    srcs = [nb["tss"], nb["flops"], mac["src"], mob["src"], res["src"]] + src_extra
    source_table = "\n".join("| `%s` | %d | `%s` |" % (rel(p), os.path.getsize(p), sha256(p)) for p in srcs)
    names = {"c10": "CIFAR-10 (K=10)", "c100": "CIFAR-100 (K=100)", "img16": "ImageNet16-120 (K=120)"}
    nb201_verif = "\n".join("| %s | %d/15,475 | %d/150 | %d/15,625 | equal |" % (names[ds], *nb["stats"][ds][:3])
                            for ds, _, _ in NB201_DATASETS)
    macro_table = "\n".join("| %d | %s |" % (i + 1, " | ".join("{:,} / {:,}".format(*row[d]) for d in (0, 1, 2)))
                            for i, row in enumerate(MACRO_TABLE))
    text = PROVENANCE_TEMPLATE.format(
        file_table=file_table, source_table=source_table,
        unique=nb["unique"], unique_const=nb["unique_const"], unique_nonconst=nb["unique"] - nb["unique_const"],
        nb201_dir=rel(os.path.dirname(nb["tss"])) + "/", nb201_tss=os.path.basename(nb["tss"]),
        nb201_flops=os.path.basename(nb["flops"]),
        nb201_rows="{:,}".format(nb["rows"]), nb201_clean="{:,}".format(nb["rows"] - nb["corrupt"]),
        nb201_corrupt=nb["corrupt"], nb201_verif=nb201_verif,
        macro_src=rel(mac["src"]), macro_rows="{:,}".format(mac["rows"]), macro_table=macro_table,
        macro_pm="{:,}".format(mac["pm"]), macro_fm="{:,}".format(mac["fm"]), macro_fb=mac["fb"],
        ch_mob_src=rel(mob["src"]), ch_res_src=rel(res["src"]),
        mob_pm="{:,}".format(mob["pm"]), mob_fm="{:,}".format(mob["fm"]), mob_fb=mob["fb"],
        res_pm="{:,}".format(res["pm"]), res_fm="{:,}".format(res["fm"]), res_fb=res["fb"],
    )
    path = os.path.join(out_dir, "PROVENANCE.md")
    with open(path, "w", newline="") as f:
        f.write(text)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("shared_data_dir", help="e.g. ../shared/data (contains nas-bench-201/, nas-bench-macro/, channel-bench-macro/)")
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)), help="output directory (default: this script's directory)")
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    repo_root = os.path.normpath(os.path.join(here, "..", ".."))
    d = args.shared_data_dir
    nb_dir = os.path.join(d, "nas-bench-201")
    mac_dir = os.path.join(d, "nas-bench-macro")
    ch_dir = os.path.join(d, "channel-bench-macro")
    os.makedirs(args.out, exist_ok=True)

    summary = []
    nb = build_nb201(nb_dir, args.out, summary)
    mac = build_macro(mac_dir, args.out, summary)
    mob = build_channel(ch_dir, args.out, "mobilenet", summary)
    res = build_channel(ch_dir, args.out, "resnet", summary)
    extra = [os.path.join(x, f) for x in (nb_dir, mac_dir, ch_dir) for f in ("SOURCE.md", "NETWORK.md")]
    prov = write_provenance(args.out, repo_root, nb, mac, mob, res, extra)

    print("== verification summary ==")
    for line in summary:
        print(line)
    print("== files ==")
    for p in (nb["out"], mac["out"], mob["out"], res["out"], prov):
        print("%-45s %9d bytes  sha256 %s" % (os.path.basename(p), os.path.getsize(p), sha256(p)))
    if FAILURES:
        print("%d CHECK(S) FAILED" % len(FAILURES))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
