// a decision family over an empty index range (`[0]`)
param layers = 0;
input [3, 32, 32];
choice k[layers] in [3, 5, 7] default 3;

network = input |> conv(16, 3) |> bn |> relu |> gap |> linear(10);
