// a residual add of tensors with different channel counts (16 vs 32)
input [3, 32, 32];
choice w in [16, 32] default 16;

block residual(x, c) {
  let y = x |> conv(c, 3) |> bn |> relu |> conv(c, 3) |> bn;
  return x + y;
}

network {
  let x = input |> conv(16, 3) |> bn |> relu;
  x = residual(x, 32);
  return x |> gap |> linear(10);
}
