// a call whose argument list is never closed
input [3, 32, 32];
choice k in [3, 5] default 3;

block conv_bn(x, c, k) = x |> conv(c, k |> bn;

network {
  return input |> conv_bn(16, k) |> gap |> linear(10);
}
