// `groups` must divide the input channels (24 channels, 5 groups)
input [3, 32, 32];

network {
  let x = input |> conv(24, 3) |> bn |> relu;
  x = x |> conv(24, 3, groups = 5) |> bn |> relu;
  return x |> gap |> linear(10);
}
