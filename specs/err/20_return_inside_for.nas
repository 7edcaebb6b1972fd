// `return` inside a `for` loop of the network body
input [3, 32, 32];
choice depth in [1, 2, 3] default 1;

network {
  let x = input |> conv(16, 3) |> bn |> relu;
  for i in 0..3 {
    x = x |> conv(16, 3) |> bn |> relu;
    return x |> gap |> linear(10);
  }
  return x;
}
