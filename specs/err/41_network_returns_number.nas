// the network must return a tensor, not a number
input [3, 32, 32];
choice w in [16, 32] default 16;

network {
  let x = input |> conv(w, 3) |> bn |> relu |> gap;
  return x.c;
}
