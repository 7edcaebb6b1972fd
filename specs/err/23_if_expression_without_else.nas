// an `if` expression needs an `else` branch (it must produce a value)
input [3, 32, 32];
choice w in [16, 32, 64] default 16;

block stage(x, c, s) = x |> conv(if s > 1 { 2 * c }, 3, stride = s) |> bn |> relu;

network = input |> stage(w, 1) |> stage(w, 2) |> gap |> linear(10);
