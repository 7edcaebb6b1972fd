// `metric NAME;` declares a derived metric; nasc derives only params and flops
input [3, 32, 32];
choice w in [16, 32] default 16;

network = input |> conv(w, 3) |> bn |> relu |> gap |> linear(10);

metric params;
metric flop;
metric latency;
