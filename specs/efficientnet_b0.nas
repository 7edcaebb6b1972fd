// EfficientNet-B0 (Tan & Le, "EfficientNet: Rethinking Model Scaling for Convolutional Neural
// Networks", ICML 2019), exactly torchvision's `efficientnet_b0`
// (torchvision/models/efficientnet.py): a fixed network, the anchor of EfficientNet-style spaces.
// Stem conv 3x3/2 (32), BN, SiLU; 16 MBConv blocks in 7 stages (torchvision's table below:
// expansion, kernel, stride, output width, repeats); a 1x1 conv to 1280, BN, SiLU, global
// average pooling, dropout 0.2, Linear(1280, classes). An MBConv block is a 1x1 expansion conv +
// BN + SiLU (absent at expansion 1), a k x k depthwise conv + BN + SiLU, squeeze-excite
// (mid = max(1, input width / 4); biased 1x1 convs, SiLU, sigmoid gate), a 1x1 projection + BN;
// residual when stride 1 and the widths agree (stochastic depth is the identity at inference).
// At 224x224 and 1,000 classes: 5,288,548 params (torchvision's count).
// `side` and `classes` are parameters (`--set side=64` for a quick CPU forward).
space efficientnet_b0;

param classes = 1000;
param side = 224;

input [3, side, side];
count flops { conv, linear }

// expansion, kernel, stride, output width, repeats
let STAGES = [
  [1, 3, 1, 16, 1],
  [6, 3, 2, 24, 2],
  [6, 5, 2, 40, 2],
  [6, 3, 2, 80, 3],
  [6, 5, 1, 112, 3],
  [6, 5, 2, 192, 4],
  [6, 3, 1, 320, 1],
];

block mbconv(x, e, k, s, out) {
  let exp = make_divisible(x.c * e, 8);
  let y = x;
  if exp != x.c {
    y = y |> conv(exp, 1) |> bn |> silu;
  }
  y = y |> dwconv(k, stride = s) |> bn |> silu;
  y = y |> se(max(1, x.c div 4), act = "silu", gate = "sigmoid");
  y = y |> conv(out, 1) |> bn;
  return if s == 1 && x.c == out { x + y } else { y };
}

network {
  let x = input |> conv(32, 3, stride = 2) |> bn |> silu;
  for st in STAGES {
    for r in 0..st[4] {
      x = mbconv(x, st[0], st[1], if r == 0 { st[2] } else { 1 }, st[3]);
    }
  }
  x = x |> conv(1280, 1) |> bn |> silu |> gap;
  return x |> dropout(0.2) |> linear(classes);
}

metric params;
metric flops;
metric accuracy = external;
maximize accuracy;
