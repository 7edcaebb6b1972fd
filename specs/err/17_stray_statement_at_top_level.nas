// a statement (`x = ...;`) outside any block or network body
input [3, 32, 32];
choice w in [16, 32] default 16;

x = input |> conv(w, 3);

network = input |> conv(w, 3) |> bn |> relu |> gap |> linear(10);
