// a tensor times a number is not an op (scale with a conv or a gate)
space t;

input [3, 8, 8];
network = (input |> conv(8, 3)) * 2 |> gap |> linear(10);
