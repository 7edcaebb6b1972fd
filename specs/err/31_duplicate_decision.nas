// two decisions with the same name
input [3, 32, 32];
choice k in [3, 5, 7] default 3;
choice w in [16, 32] default 16;
choice k in [1, 3] default 1;

network = input |> conv(w, k) |> bn |> relu |> gap |> linear(10);
