// a tensor has fields `c`, `h` and `w` only
input [3, 32, 32];

block expand(x, t) = x |> conv(x.channels * t, 1) |> bn |> relu6;

network = input |> conv(16, 3) |> expand(6) |> gap |> linear(10);
