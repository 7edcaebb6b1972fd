// a lookup CSV without the `decision` and `option` columns
input [3, 224, 224];
choice k in [3, 5, 7] default 3;
choice w in [16, 32] default 16;

network = input |> conv(w, k, stride = 2) |> bn |> relu |> gap |> linear(1000);

metric latency = lookup("bad_lut_header.csv", "ms");
minimize latency;
