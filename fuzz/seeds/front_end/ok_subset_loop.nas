// expect: ok
input [3, 8, 8]; subset keep of range(2) size 1; network { let x = input; for k in keep { x = x |> conv(8, 3); } return x; }
