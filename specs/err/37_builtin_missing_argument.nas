// a builtin op called without a required argument (`conv` needs `out` and `k`)
input [3, 32, 32];
choice w in [16, 32] default 16;

network {
  let x = input |> conv(w) |> bn |> relu;
  return x |> gap |> linear(10);
}
