// assigning to a local that was never declared with `let`
input [3, 32, 32];
choice w in [16, 32] default 16;

network {
  let x = input |> conv(w, 3) |> bn |> relu;
  for i in 0..2 {
    y = x |> conv(w, 3) |> bn |> relu;
  }
  return x |> gap |> linear(10);
}
