// a misspelled builtin op in the network (`avgpol` for `avgpool`)
input [3, 32, 32];
choice w in [16, 32] default 16;

network {
  let x = input |> conv(w, 3) |> bn |> relu;
  x = x |> avgpol(2, stride = 2);
  return x |> gap |> linear(10);
}
