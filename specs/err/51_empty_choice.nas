// a choice with no options
input [3, 32, 32];
choice w in [16, 32] default 16;
choice act in [];

network = input |> conv(w, 3) |> bn |> relu |> gap |> linear(10);
