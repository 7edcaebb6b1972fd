// expect: ok
input [3, 8, 8]; choice c in range(100000); network = input |> conv(c + 1, 1);
