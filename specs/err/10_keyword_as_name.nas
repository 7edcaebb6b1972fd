// `size` is a keyword and cannot name a parameter
param size = 32;
input [3, 32, 32];
choice w in [16, 32] default 16;

network = input |> conv(w, 3) |> bn |> relu |> gap |> linear(10);
