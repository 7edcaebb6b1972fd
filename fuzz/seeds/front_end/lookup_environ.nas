// expect: E0601
input [3, 8, 8]; choice k in [1, 3]; network = input |> conv(8, k); metric lat = lookup("/proc/self/environ", "x");
