// a choice whose options are lists: options must be numbers, strings or ops
input [3, 32, 32];
choice ks in [[3, 3], [5, 5]] default [3, 3];

network {
  let x = input |> conv(16, 3) |> bn |> relu;
  for k in ks { x = x |> conv(16, k) |> bn |> relu; }
  return x |> gap |> linear(10);
}
