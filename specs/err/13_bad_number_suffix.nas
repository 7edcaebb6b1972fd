// `300Mb` is not a number: the only suffixes are K, M and G
input [3, 224, 224];
choice w in [16, 32, 64] default 16;

network = input |> conv(w, 3, stride = 2) |> bn |> relu |> gap |> linear(1000);

metric flops;
constraint flops <= 300Mb;
