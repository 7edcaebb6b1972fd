// the default of a choice is not among its options
input [3, 32, 32];
choice k in [3, 5, 7] default 1;
choice w in [16, 32] default 16;

network = input |> conv(w, k) |> bn |> relu |> gap |> linear(10);
