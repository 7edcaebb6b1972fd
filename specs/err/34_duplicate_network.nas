// a second `network` item
input [3, 32, 32];
choice k in [3, 5] default 3;

network = input |> conv(16, k) |> bn |> gap |> linear(10);
network = input |> conv(32, k) |> bn |> gap |> linear(10);
