// a dropout probability must be in [0, 1)
space t;

input [3, 8, 8];
network = input |> conv(8, 3) |> dropout(1.5) |> gap |> linear(10);
