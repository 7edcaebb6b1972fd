// expect: ok
input [3, 8, 8];
subset keep of range(33) size 2;
network { let x = input; for k in keep { x = x |> conv(8, 3); } return x; }
