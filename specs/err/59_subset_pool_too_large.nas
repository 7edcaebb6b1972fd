// a subset pool with more than 64 members
input [3, 32, 32];
subset keep of range(100) size 0..=4;

network = input |> conv(16, 3) |> bn |> relu |> gap |> linear(10);
