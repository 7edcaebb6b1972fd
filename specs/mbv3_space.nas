// A MobileNetV3-style search space with a packed name (the space of issue 14's naming report):
// the OFA MobileNetV3 backbone (specs/ofa_mbv3.nas: stem conv 3x3/2 (16, h-swish), a fixed
// MBConv e1 k3, five units of width 24, 40, 80, 112, 160, first stride 2, 2, 2, 1, 2, ReLU in
// the first two units and h-swish after, the head 960 / 1280 / classifier), where every layer
// also decides whether it has squeeze-excite.
// Each unit has depth {2, 3, 4}; each of its layers picks a depth-wise kernel {3, 5, 7}, an
// expansion {3, 4, 6} and SE off/on (mid = make_divisible(hidden / 4, 8)), and exists only
// when the depth of its unit reaches it (`when depth[u] > j`). A layer has 3 * 3 * 2 = 18
// configurations, a unit 18^2 + 18^3 + 18^4 = 111,132, the space 111,132^5 (about 1.7e25).
// The name packs the decisions that exist, one digit each: the five depths, then the kernels,
// expansions and SE flags of the existing layers (`4433:7535...`); absent layers print
// nothing, so a name is read by the depths that come first.
space mbv3_space;

param classes = 1000;
param side = 224;

input [3, side, side];
count flops { conv, linear }

// width, first stride, h-swish? of the 5 searchable units
let UNITS = [[24, 2, false], [40, 2, false], [80, 2, true], [112, 1, true], [160, 2, true]];

choice depth[u in 0..5] in [2, 3, 4] default 4;
choice k[u in 0..5][j in 0..4] in [3, 5, 7] default 3 when depth[u] > j;
choice e[u in 0..5][j in 0..4] in [3, 4, 6] default 6 when depth[u] > j;
choice sq[u in 0..5][j in 0..4] in [0, 1] default 0 when depth[u] > j;

block act(x, hs) = if hs { hswish(x) } else { relu(x) };

block mbconv(x, out, k, t, s, hs, use_se) {
  let y = x;
  if t != 1 {
    y = y |> conv(make_divisible(x.c * t, 8), 1) |> bn |> act(hs);
  }
  y = y |> dwconv(k, stride = s) |> bn |> act(hs);
  if use_se == 1 {
    y = y |> se(make_divisible(y.c div 4, 8));
  }
  y = y |> conv(out, 1) |> bn;
  return if s == 1 && x.c == out { x + y } else { y };
}

network {
  let x = input |> conv(16, 3, stride = 2) |> bn |> hswish;
  x = mbconv(x, 16, 3, 1, 1, false, 0);
  for u in 0..5 {
    let cfg = UNITS[u];
    for j in 0..4 {
      if depth[u] > j {
        x = mbconv(x, cfg[0], k[u][j], e[u][j], if j == 0 { cfg[1] } else { 1 }, cfg[2], sq[u][j]);
      }
    }
  }
  x = x |> conv(960, 1) |> bn |> hswish |> gap;
  return x |> conv(1280, 1) |> hswish |> linear(classes);
}

metric params;
metric flops;
metric accuracy = external;
maximize accuracy;
name arch = "{depth[*]}:{k[*]}{e[*]}{sq[*]}";
