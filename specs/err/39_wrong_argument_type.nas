// a string where an int is expected (`stride = "2"`)
input [3, 32, 32];
choice w in [16, 32] default 16;

network {
  let x = input |> conv(w, 3) |> bn |> relu;
  x = x |> conv(2 * w, 3, stride = "2") |> bn |> relu;
  return x |> gap |> linear(10);
}
