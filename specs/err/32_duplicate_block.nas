// two blocks with the same name
input [3, 32, 32];
choice w in [16, 32] default 16;

block conv_bn(x, c) = x |> conv(c, 3) |> bn;
block conv_bn(x, c, k) = x |> conv(c, k) |> bn;

network = input |> conv_bn(w) |> relu |> gap |> linear(10);
