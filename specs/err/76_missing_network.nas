// a spec without a `network` item
space headless;
input [3, 32, 32];
choice w in [16, 32] default 16;
block conv_bn(x, c) = x |> conv(c, 3) |> bn;
metric params;
