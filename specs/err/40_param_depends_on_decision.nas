// a `let` constant may not depend on a decision
input [3, 32, 32];
choice w in [16, 32] default 16;
let wide = 2 * w;

network = input |> conv(wide, 3) |> bn |> relu |> gap |> linear(10);
