// concat of tensors with different heights/widths (32x32 vs 16x16)
input [3, 32, 32];
choice w in [16, 32] default 16;

block inception(x) {
  let a = x |> conv(w, 1);
  let b = x |> conv(w, 3, stride = 2);
  return concat([a, b]);
}

network = input |> conv(16, 3) |> inception |> gap |> linear(10);
