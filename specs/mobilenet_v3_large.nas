// MobileNetV3-Large (Howard et al., "Searching for MobileNetV3", ICCV 2019), exactly
// torchvision's `mobilenet_v3_large` (torchvision/models/mobilenetv3.py, width 1.0): a fixed
// network, the anchor of MobileNetV3-style spaces (specs/ofa_mbv3.nas, specs/mbv3_space.nas).
// Stem conv 3x3/2 (16), BN, h-swish; 15 inverted-residual blocks (torchvision's table below:
// kernel, expanded width, output width, squeeze-excite, h-swish, stride); a 1x1 conv to 960,
// BN, h-swish, global average pooling, then the classifier Linear(960, 1280), h-swish,
// (dropout), Linear(1280, classes). A block is a 1x1 expansion conv + BN + activation (absent
// when the expanded width equals the input's), a k x k depthwise conv + BN + activation,
// squeeze-excite (mid = make_divisible(expanded / 4, 8); biased 1x1 convs, ReLU,
// h-sigmoid), a 1x1 projection + BN; residual when stride 1 and the widths agree.
// At 224x224 and 1,000 classes: 5,483,032 params (torchvision's count) and 216,589,760
// multiply-accumulates of convolutions and linear layers (torchvision's "0.22 GFLOPS").
// `side` and `classes` are parameters (`--set side=64` for a quick CPU forward).
space mobilenet_v3_large;

param classes = 1000;
param side = 224;

input [3, side, side];
count flops { conv, linear }

// kernel, expanded width, output width, SE?, h-swish?, stride
let BLOCKS = [
  [3, 16, 16, false, false, 1],
  [3, 64, 24, false, false, 2],
  [3, 72, 24, false, false, 1],
  [5, 72, 40, true, false, 2],
  [5, 120, 40, true, false, 1],
  [5, 120, 40, true, false, 1],
  [3, 240, 80, false, true, 2],
  [3, 200, 80, false, true, 1],
  [3, 184, 80, false, true, 1],
  [3, 184, 80, false, true, 1],
  [3, 480, 112, true, true, 1],
  [3, 672, 112, true, true, 1],
  [5, 672, 160, true, true, 2],
  [5, 960, 160, true, true, 1],
  [5, 960, 160, true, true, 1],
];

block act(x, hs) = if hs { hswish(x) } else { relu(x) };

block bneck(x, k, exp, out, use_se, hs, s) {
  let y = x;
  if exp != x.c {
    y = y |> conv(exp, 1) |> bn |> act(hs);
  }
  y = y |> dwconv(k, stride = s) |> bn |> act(hs);
  if use_se {
    y = y |> se(make_divisible(exp div 4, 8));
  }
  y = y |> conv(out, 1) |> bn;
  return if s == 1 && x.c == out { x + y } else { y };
}

network {
  let x = input |> conv(16, 3, stride = 2) |> bn |> hswish;
  for i in 0..15 {
    let b = BLOCKS[i];
    x = bneck(x, b[0], b[1], b[2], b[3], b[4], b[5]);
  }
  x = x |> conv(960, 1) |> bn |> hswish |> gap;
  return x |> linear(1280) |> hswish |> linear(classes);
}

metric params;
metric flops;
metric accuracy = external;
maximize accuracy;
