// ResNet-18 (He, Zhang, Ren & Sun, "Deep Residual Learning for Image Recognition", CVPR 2016),
// exactly torchvision's `resnet18` (torchvision/models/resnet.py): a fixed network, the anchor
// of ResNet-style spaces. Stem conv 7x7/2 (64, padding 3, no bias), BN, ReLU, max pool 3x3/2
// (padding 1); four stages of two BasicBlocks (widths 64, 128, 256, 512; stride 2 at the first
// block of stages 2-4, whose shortcut is a 1x1/2 conv + BN); global average pooling; a biased
// linear classifier. A BasicBlock is conv 3x3 (stride s), BN, ReLU, conv 3x3, BN, plus the
// shortcut, ReLU. Convolutions have no bias.
// At 224x224 and 1,000 classes: 11,689,512 params (torchvision's count) and 1,814,073,344
// multiply-accumulates of convolutions and the classifier (torchvision's "1.81 GFLOPS").
// `side` and `classes` are parameters (`--set side=32` for a quick CPU forward).
space resnet18;

param classes = 1000;
param side = 224;

input [3, side, side];
count flops { conv, linear }

block basic(x, out, s) {
  let y = x |> conv(out, 3, stride = s) |> bn |> relu |> conv(out, 3) |> bn;
  let short = if s == 1 && x.c == out { x } else { x |> conv(out, 1, stride = s) |> bn };
  return relu(y + short);
}

network {
  let x = input |> conv(64, 7, stride = 2) |> bn |> relu |> maxpool(3, stride = 2);
  let widths = [64, 128, 256, 512];
  for i in 0..4 {
    x = basic(x, widths[i], if i == 0 { 1 } else { 2 });
    x = basic(x, widths[i], 1);
  }
  return x |> gap |> linear(classes);
}

metric params;
metric flops;
metric accuracy = external;
maximize accuracy;
