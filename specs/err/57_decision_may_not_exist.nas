// `k[2]` exists only when depth > 2, but the network reads it for every depth
input [3, 32, 32];
choice depth in [1, 2, 3] default 1;
choice k[j in 0..3] in [3, 5] default 3 when depth > j;

network {
  let x = input |> conv(16, 3) |> bn |> relu;
  for j in 0..3 {
    x = x |> conv(16, k[j]) |> bn |> relu;
  }
  return x |> gap |> linear(10);
}
