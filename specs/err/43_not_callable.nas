// a number piped into like an op: `x |> C` where `C` is a param
param C = 16;
input [3, 32, 32];

network {
  let x = input |> conv(C, 3) |> bn;
  return x |> C |> gap |> linear(10);
}
