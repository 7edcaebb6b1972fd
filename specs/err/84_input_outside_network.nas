// `input` (the network's input tensor) used in a decision domain, outside the network
input [3, 32, 32];
choice stem in [input, input] default input;

network = input |> conv(16, 3) |> gap |> linear(10);
