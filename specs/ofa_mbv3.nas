// Once-for-All MobileNetV3 space (Cai, Gan, Wang, Zhang & Han, "Once-for-All: Train One Network
// and Specialize it for Efficient Deployment", ICLR 2020; github.com/mit-han-lab/once-for-all,
// `OFAMobileNetV3`, width multiplier 1.0, resolution fixed at 224).
// Stem conv 3x3/2 (16, h-swish) and a fixed MBConv e1 k3 (16, ReLU, residual); then 5 units of
// width 24, 40, 80, 112, 160, first stride 2, 2, 2, 1, 2, activation ReLU, ReLU, h-swish,
// h-swish, h-swish, squeeze-excite in units 2, 4, 5. Each unit has depth 2..4; each of its
// layers picks a kernel {3, 5, 7} and an expansion {3, 4, 6}. A layer is an MBConv: 1x1
// expansion to make_divisible(in x e, 8), k x k depthwise, optional SE (mid =
// make_divisible(hidden / 4, 8), ReLU / h-sigmoid, biased 1x1 convs), 1x1 projection; residual
// when stride 1 and widths agree. Head: 1x1 conv 960 (BN, h-swish), global average pooling,
// 1x1 conv 1280 (no BN, h-swish), linear classifier.
// Counting: a layer has 3 x 3 = 9 (kernel, expansion) options and exists only when the depth
// of its unit reaches it (`when depth[u] > j`), so a unit has sum over d in {2, 3, 4} of 9^d
// configurations, and the space has
//   ((3*3)^2 + (3*3)^3 + (3*3)^4)^5 = 7371^5 = 21,758,655,492,572,485,851 (about 2.2e19),
// the paper's "about 2 x 10^19" (each also usable at 25 input resolutions; not searched here:
// the resolution is the `side` param). Defaults: the largest network (depth 4, k 7, e 6), where
// OFA's progressive shrinking starts; it has 7,664,760 params here (OFA's full network: 7.7M).
space ofa_mbv3;

param classes = 1000;
param side = 224;

input [3, side, side];
count flops { conv, linear }

// width, first stride, h-swish?, SE? of the 5 searchable units
let UNITS = [[24, 2, false, false], [40, 2, false, true], [80, 2, true, false], [112, 1, true, true], [160, 2, true, true]];

choice depth[u in 0..5] in [2, 3, 4] default 4;
choice k[u in 0..5][j in 0..4] in [3, 5, 7] default 7 when depth[u] > j;
choice e[u in 0..5][j in 0..4] in [3, 4, 6] default 6 when depth[u] > j;

block act(x, hs) = if hs { hswish(x) } else { relu(x) };

block mbconv(x, out, k, t, s, hs, use_se) {
  let y = x;
  if t != 1 {
    y = y |> conv(make_divisible(x.c * t, 8), 1) |> bn |> act(hs);
  }
  y = y |> dwconv(k, stride = s) |> bn |> act(hs);
  if use_se {
    y = y |> se(make_divisible(y.c div 4, 8));
  }
  y = y |> conv(out, 1) |> bn;
  return if s == 1 && x.c == out { x + y } else { y };
}

network {
  let x = input |> conv(16, 3, stride = 2) |> bn |> hswish;
  x = mbconv(x, 16, 3, 1, 1, false, false);
  for u in 0..5 {
    let cfg = UNITS[u];
    for j in 0..4 {
      if depth[u] > j {
        x = mbconv(x, cfg[0], k[u][j], e[u][j], if j == 0 { cfg[1] } else { 1 }, cfg[2], cfg[3]);
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
