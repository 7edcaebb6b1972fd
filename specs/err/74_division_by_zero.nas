// an integer division by zero while evaluating the network (`groups` is 0 in `c div groups`)
param groups = 0;
input [3, 32, 32];
choice w in [16, 32] default 16;

network {
  let x = input |> conv(w, 3) |> bn |> relu;
  x = x |> conv(w div groups, 1) |> bn;
  return x |> gap |> linear(10);
}
