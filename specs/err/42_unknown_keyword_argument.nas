// a misspelled keyword argument (`strides` for `stride`)
input [3, 32, 32];
choice w in [16, 32] default 16;

network = input |> conv(w, 3, strides = 2) |> bn |> relu |> gap |> linear(10);
