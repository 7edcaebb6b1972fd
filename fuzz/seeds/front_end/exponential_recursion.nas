// expect: E0801
input [3, 8, 8]; block t(x, n) { let y = x; if n > 0 { y = t(x, n - 1) + t(x, n - 1); } return y; } network = t(input |> conv(3, 1), 24);
