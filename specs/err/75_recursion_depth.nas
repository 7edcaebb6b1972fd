// a block that calls itself without end
input [3, 32, 32];
choice w in [16, 32] default 16;

block tower(x, n) = tower(x |> conv(w, 3) |> bn |> relu, n - 1);

network = input |> tower(4) |> gap |> linear(10);
