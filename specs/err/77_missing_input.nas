// a spec without an `input` item
choice w in [16, 32] default 16;
network = input |> conv(w, 3) |> bn |> relu |> gap |> linear(10);
