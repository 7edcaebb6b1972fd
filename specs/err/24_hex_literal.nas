// hexadecimal literals do not exist: `0x40` is an invalid number
input [3, 32, 32];
param C = 0x40;
choice k in [3, 5] default 3;

network = input |> conv(C, k) |> bn |> relu |> gap |> linear(10);
