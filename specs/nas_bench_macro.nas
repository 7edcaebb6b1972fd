// NAS-Bench-Macro (Su et al., "Prioritized Architecture Sampling with Monte-Carlo Tree
// Search", CVPR 2021; github.com/xiusu/NAS-Bench-Macro). 8 searchable layers, each one of
// {identity, MobileNetV2 block t=3 k=3, MobileNetV2 block t=6 k=5}: 3^8 = 6,561 networks.
// Network and counting rule as the benchmark's own code (github.com/xiusu/NAS-Bench-Macro): FLOPs count
// convolutions and the classifier weights, NOT the classifier bias.
space nas_bench_macro;

input [3, 32, 32];
count flops { conv, linear }

block cbr(x, c, k, s = 1) = x |> conv(c, k, stride = s) |> bn |> relu;

// inverted residual: hidden width t x the INPUT width; residual when the shape is kept
block mb(x, out, t, k, s) {
  let h = x.c * t;
  let y = x |> cbr(h, 1) |> conv(h, k, stride = s, groups = h) |> bn |> relu |> conv(out, 1) |> bn;
  return if s == 1 && x.c == out { x + y } else { y };
}

// "identity": a true identity when the shape is kept, else a 1x1 stride-2 projection + BN
block skip(x, out, s) = if s == 1 && x.c == out { x } else { x |> conv(out, 1, stride = s) |> bn };
block mb3_k3(x, out, s) = mb(x, out, 3, 3, s);
block mb6_k5(x, out, s) = mb(x, out, 6, 5, s);

choice layer[8] in [skip, mb3_k3, mb6_k5] default skip;

network {
  let x = input |> cbr(32, 3);
  let l = 0;
  for stage in [[64, 2], [128, 3], [256, 3]] {
    for i in 0..stage[1] {
      x = x |> layer[l](stage[0], if i == 0 { 2 } else { 1 });
      l = l + 1;
    }
  }
  return x |> cbr(1280, 1) |> gap |> linear(10);
}

metric params;
metric flops;
metric accuracy = external;
maximize accuracy;

// the benchmark's key: 8 digits, 0 = identity, 1 = mb3_k3, 2 = mb6_k5
name arch = "{layer[*]:index}";
