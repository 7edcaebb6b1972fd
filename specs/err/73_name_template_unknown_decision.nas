// a name template with a placeholder for an unknown decision (`{kernel}`)
input [3, 32, 32];
choice k in [3, 5, 7] default 3;
choice w in [16, 32] default 16;

network = input |> conv(w, k) |> bn |> relu |> gap |> linear(10);

name short = "w{w}-k{kernel}";
