// a lookup CSV naming an option a decision does not have (`k` = 9, line 4)
input [3, 224, 224];
choice k in [3, 5, 7] default 3;
choice w in [16, 32] default 16;

network = input |> conv(w, k, stride = 2) |> bn |> relu |> gap |> linear(1000);

metric latency = lookup("unknown_option_lut.csv", "ms");
minimize latency;
