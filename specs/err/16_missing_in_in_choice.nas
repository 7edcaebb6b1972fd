// a choice without `in` before its options
input [3, 32, 32];
choice k [3, 5, 7] default 3;
choice w in [16, 32] default 16;

network = input |> conv(w, k) |> bn |> relu |> gap |> linear(10);
