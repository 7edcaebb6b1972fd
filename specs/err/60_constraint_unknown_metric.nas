// a constraint on a metric that is not declared (`latency`; the spec declares `lat`)
input [3, 32, 32];
choice w in [16, 32] default 16;

network = input |> conv(w, 3) |> bn |> relu |> gap |> linear(10);

metric params;
metric lat = external;
constraint params <= 1M;
constraint latency <= 5;
