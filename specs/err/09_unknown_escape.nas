// `\d` is not a string escape (only \" \\ \n \t are)
input [3, 32, 32];
choice w in [16, 32] default 16;

network = input |> conv(w, 3) |> bn |> relu |> gap |> linear(10);

name short = "w\d{w}";
