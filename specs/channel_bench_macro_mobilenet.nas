// Channel-Bench-Macro, MobileNet space (Su et al., BCNet; github.com/xiusu/Channel-Bench-Macro).
// 7 searchable widths, each (d/4) x its maximum for a digit d in 1..4: 4^7 = 16,384 networks.
// Network as the benchmark's own code builds it (not its README table; provenance of the
// embedded table: runtime/data/PROVENANCE.md):
// the hidden width of each inverted residual is set directly; widths w1 and w5 are trunk
// widths shared by residual paths. FLOPs count convolutions and classifier weights (no bias).
space channel_bench_macro_mobilenet;

input [3, 32, 32];
count flops { conv, linear }

// digit d gives width d/4 of the maximum: Wmax = 128, 768, 768, 768, 256, 1536, 1024
choice d[7] in [1, 2, 3, 4] default 4;

block cbr(x, c, k, s = 1) = x |> conv(c, k, stride = s) |> bn |> relu;

block mb(x, hid, out, s) {
  let y = x |> cbr(hid, 1) |> conv(hid, 3, stride = s, groups = hid) |> bn |> relu |> conv(out, 1) |> bn;
  return if s == 1 && x.c == out { x + y } else { y };
}

network {
  let x = input |> cbr(32 * d[0], 3, 2);
  x = mb(x, 192 * d[1], x.c, 1);
  x = mb(x, 192 * d[2], x.c, 1);
  x = mb(x, 192 * d[3], 64 * d[4], 2);
  x = mb(x, 384 * d[5], x.c, 1);
  return x |> cbr(256 * d[6], 1) |> gap |> linear(10);
}

metric params;
metric flops;
metric accuracy = external;
maximize accuracy;

// the benchmark's key: 7 digits 1..4
name arch = "{d[*]}";
