// a parameter declared twice (and a `let` reusing a parameter's name)
param classes = 10;
param side = 32;
param classes = 100;
let side = 16;

input [3, side, side];
choice w in [16, 32] default 16;

network = input |> conv(w, 3) |> bn |> relu |> gap |> linear(classes);
