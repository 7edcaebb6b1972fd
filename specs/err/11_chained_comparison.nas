// comparisons are non-associative: `1M < params < 5M` must be written with `&&` or `in`
input [3, 32, 32];
choice w in [16, 32, 64] default 16;

network = input |> conv(w, 3) |> bn |> relu |> conv(w, 3) |> gap |> linear(10);

metric params;
constraint 1K < params < 5M;
