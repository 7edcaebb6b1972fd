// LayerNAS's MobileNetV2 search space (Fan et al., "LayerNAS: Neural Architecture Search in
// Polynomial Complexity", 2023, section 5 "ImageNet"; backbone: Sandler et al., "MobileNetV2:
// Inverted Residuals and Linear Bottlenecks", CVPR 2018). ImageNet, 224x224.
// The MobileNetV2 backbone is kept (stem conv 3x3/2 32; 7 blocks of (t, c, n, s) = (1, 16, 1, 1),
// (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1);
// 1x1 conv 1280; global average pooling; classifier) with its fixed strides. As the paper
// describes it: every layer picks a kernel size in {3, 5, 7} and its expanded filters; every
// block picks its base filters, shared by its layers so that the residual shortcuts stay valid.
// LayerNAS searches the shared base filters first, then kernels and expanded filters: the
// decisions are declared in that order. Options are listed from the most to the least costly
// (LayerNAS's convention: option 1 is the maximal cost); every default is the original
// MobileNetV2 (base filters c, kernel 3, expansion 6), so the default candidate IS MobileNetV2
// (3,504,872 params, 300.8M MACs with 1000 classes, as published: 3.4M / 300M).
// Deviation: the paper's exact option sets are in its appendix, which our copy lacks. Here:
// base filters about c x {1.5, 1.25, 1, 0.75}, multiples of 8 (steps of 8 for the two narrowest
// blocks); expanded filters = round(input filters x t) for t in {6, 5, 4, 3, 2} (the first
// layer, t = 1 in MobileNetV2, has no expansion and searches only its kernel). So the size is
// not the paper's Table 1 figure (5.3e30) but
//   4^7 (base filters) x 3^17 (kernels) x 5^16 (expansions)
//   = 16,384 x 129,140,163 x 152,587,890,625 = 322,850,407,500,000,000,000,000 (about 3.2e23).
// `se_swish = 1` adds the squeeze-excite (mid = make_divisible(hidden / 4, 8)) and swish of the
// paper's reported models; the default 0 is the original (ReLU6, no SE).
space mobilenet_v2_layernas;

param classes = 1000;
param side = 224;
param se_swish = 0;

input [3, side, side];
count flops { conv, linear }

// per block: expansion t, layers n, first stride s (MobileNetV2's table), base filter options
let T = [1, 6, 6, 6, 6, 6, 6];
let NL = [1, 2, 3, 4, 3, 3, 1];
let S = [1, 2, 2, 2, 1, 2, 1];
let BASE = [16, 24, 32, 64, 96, 160, 320];
let FILTERS = [
  [32, 24, 16, 8],
  [40, 32, 24, 16],
  [48, 40, 32, 24],
  [96, 80, 64, 48],
  [144, 120, 96, 72],
  [240, 200, 160, 120],
  [480, 400, 320, 240],
];

choice filters[b in 0..7] in FILTERS[b] default BASE[b];
choice kernel[l in 0..17] in [7, 5, 3] default 3;
// expansion of layers 1..16 (layer 0 has t = 1)
choice expand[l in 0..16] in [6, 5, 4, 3, 2] default 6;

block act(x) = if se_swish == 1 { swish(x) } else { relu6(x) };

// inverted residual: 1x1 expansion to round(in x t) (none when t = 1), k x k depthwise,
// optional SE, linear 1x1 projection; residual when the shape is kept
block ir(x, out, k, t, s) {
  let y = x;
  if t != 1 {
    y = y |> conv(round(x.c * t), 1) |> bn |> act;
  }
  y = y |> dwconv(k, stride = s) |> bn |> act;
  if se_swish == 1 {
    y = y |> se(make_divisible(y.c / 4, 8));
  }
  y = y |> conv(out, 1) |> bn;
  return if s == 1 && x.c == out { x + y } else { y };
}

network {
  let x = input |> conv(32, 3, stride = 2) |> bn |> act;
  let l = 0;
  for b in 0..7 {
    for i in 0..NL[b] {
      let t = if l == 0 { 1 } else { expand[l - 1] };
      x = ir(x, filters[b], kernel[l], t, if i == 0 { S[b] } else { 1 });
      l = l + 1;
    }
  }
  return x |> conv(1280, 1) |> bn |> act |> gap |> linear(classes);
}

metric params;
metric flops;
metric accuracy = external;
maximize accuracy;
// LayerNAS's target for this space is about 300M MAdds (its model: 322M); the default itself
// has 300.8M, so the target is left to the search (e.g. a cost bucket range), not a constraint.
