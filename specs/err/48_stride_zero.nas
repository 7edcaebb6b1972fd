// a stride of zero
input [3, 32, 32];
choice s in [0, 1, 2] default 1;

network = input |> conv(16, 3, stride = s) |> bn |> relu |> gap |> linear(10);
