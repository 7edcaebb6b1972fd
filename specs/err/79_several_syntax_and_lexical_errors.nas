// a file with a keyword used as a name, an unknown escape, a chained comparison and an
// unterminated string: all four are reported
input [3, 32, 32];
choice default in [16, 32];
choice k in [3, 5] default 3;

network = input |> conv(16, k) |> bn |> relu |> gap |> linear(10);

name a = "k\k{k}";
constraint 0 < params < 1M;
name b = "k{k}
