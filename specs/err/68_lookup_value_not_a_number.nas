// a lookup CSV whose value is not a number (line 3)
input [3, 224, 224];
choice k in [3, 5, 7] default 3;
choice w in [16, 32] default 16;

network = input |> conv(w, k, stride = 2) |> bn |> relu |> gap |> linear(1000);

metric latency = lookup("bad_lut_value.csv", "ms");
minimize latency;
