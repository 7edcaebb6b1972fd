// a float literal (with an SI suffix) that overflows f64
input [3, 32, 32];
choice w in [16, 32] default 16;

network = input |> conv(w, 3) |> bn |> relu |> gap |> linear(10);

metric flops;
constraint flops <= 1.5e308G;
