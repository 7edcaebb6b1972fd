// a name template whose string is never closed (strings may not span lines)
input [3, 32, 32];
choice w in [16, 32] default 16;
choice k in [3, 5] default 3;

network = input |> conv(w, k) |> bn |> relu |> gap |> linear(10);

name short = "w{w}-k{k};
metric params;
