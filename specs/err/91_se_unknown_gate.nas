// squeeze-excite's gate names an activation: a misspelled one gets a suggestion
space t;

input [3, 8, 8];
network = input |> conv(8, 3) |> se(2, gate = "sigmod") |> gap |> linear(10);
