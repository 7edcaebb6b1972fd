// a misspelled item keyword (`chioce` for `choice`)
input [3, 32, 32];
chioce k in [3, 5, 7] default 3;
choice w in [16, 32] default 16;

network = input |> conv(w, 3) |> bn |> relu |> gap |> linear(10);
