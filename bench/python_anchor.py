"""The README's Python anchor: a plain Python function computing an NB201-like cost (params and
FLOPs as a constant plus one table lookup per edge, then a feasibility test), timed over
candidates. Run: python3 bench/python_anchor.py  (prints candidates/s)."""
import random
import time

# per-op cost of one edge at the three stage widths (illustrative values of the right size)
OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
PARAMS = {"none": 0, "skip_connect": 0, "nor_conv_1x1": 5 * (256 + 32), "nor_conv_3x3": 5 * (2304 + 32), "avg_pool_3x3": 0}
FLOPS = {"none": 0, "skip_connect": 0, "nor_conv_1x1": 5 * 262144, "nor_conv_3x3": 5 * 2359296, "avg_pool_3x3": 0}
BASE_PARAMS, BASE_FLOPS = 73_306, 7_783_050


def cost(arch):
    params = BASE_PARAMS
    flops = BASE_FLOPS
    for op in arch:
        params += PARAMS[op]
        flops += FLOPS[op]
    return params, flops, flops <= 120e6


def main():
    rng = random.Random(0)
    archs = [tuple(rng.choice(OPS) for _ in range(6)) for _ in range(200_000)]
    best = 0.0
    for _ in range(5):
        t = time.perf_counter()
        for a in archs:
            cost(a)
        best = max(best, len(archs) / (time.perf_counter() - t))
    print(f"python anchor: {best / 1e6:.2f} M candidates/s")


if __name__ == "__main__":
    main()
