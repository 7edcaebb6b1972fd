// a block named like a builtin op (`relu`)
input [3, 32, 32];
choice w in [16, 32] default 16;

block relu(x) = x |> relu6;

network = input |> conv(w, 3) |> bn |> relu |> gap |> linear(10);
