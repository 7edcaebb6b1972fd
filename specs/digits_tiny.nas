// A small convolutional space for the embedded digits dataset (1x8x8 grey images, 10 classes):
// the README quickstart, `nasc train specs/digits_tiny.nas --dataset digits --epochs 3`.
// Two conv-BN-ReLU layers (a kernel size and a width each), then a choice between nothing, a
// 3x3 max pool and a residual 3x3 conv block at the reduced size; GAP-linear head.
// Size: 2^2 x 3^2 x 3 = 108.
space digits_tiny;

param classes = 10;
param side = 8;

input [1, side, side];

block cbr(x, c, k, s = 1) = x |> conv(c, k, stride = s) |> bn |> relu;

block plain(x) = identity(x);
block pool(x) = maxpool(x, 3, stride = 1, padding = 1);
block res(x) = x + (x |> conv(x.c, 3) |> bn |> relu);

choice kernel[2] in [3, 5] default 3;
choice width[2] in [8, 16, 32] default 16;
choice tail in [plain, pool, res] default plain;

network {
  let x = input |> cbr(width[0], kernel[0]);
  x = x |> cbr(width[1], kernel[1], 2) |> tail;
  return x |> gap |> linear(classes);
}

metric params;
metric flops;
metric accuracy = external;
maximize accuracy;
