// the network body is never closed before the end of the file
input [3, 32, 32];
choice w in [16, 32] default 16;

network {
  let x = input |> conv(w, 3) |> bn |> relu;
  for i in 0..2 {
    x = x |> conv(w, 3) |> bn |> relu;
  }
  return x |> gap |> linear(10);
