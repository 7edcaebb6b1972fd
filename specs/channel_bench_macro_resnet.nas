// Channel-Bench-Macro, ResNet space (Su et al., BCNet; github.com/xiusu/Channel-Bench-Macro).
// 7 searchable widths, (d/4) x Wmax for d in 1..4 with Wmax = 256, 256, 256, 512, 512, 512,
// 512: 4^7 = 16,384 networks. Basic blocks without projection shortcuts (the stride-2 block
// has no shortcut), ReLU after the sum; no 1x1 head conv: the classifier reads w5 channels.
// Network and counting rule: the benchmark's own code (github.com/xiusu/Channel-Bench-Macro).
space channel_bench_macro_resnet;

input [3, 32, 32];
count flops { conv, linear }

choice d[7] in [1, 2, 3, 4] default 4;

block cbr(x, c, k, s = 1) = x |> conv(c, k, stride = s) |> bn |> relu;

block basic(x, mid, out, s, residual) {
  let y = x |> cbr(mid, 3, s) |> conv(out, 3) |> bn;
  return if residual { relu(x + y) } else { relu(y) };
}

network {
  let x = input |> cbr(64 * d[0], 3, 2);
  x = basic(x, 64 * d[1], x.c, 1, true);
  x = basic(x, 64 * d[2], x.c, 1, true);
  x = basic(x, 128 * d[3], 128 * d[4], 2, false);
  x = basic(x, 128 * d[5], x.c, 1, true);
  x = basic(x, 128 * d[6], x.c, 1, true);
  return x |> gap |> linear(10);
}

metric params;
metric flops;
metric accuracy = external;
maximize accuracy;

name arch = "{d[*]}";
