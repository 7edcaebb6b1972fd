// expect: E0801
input [3, 8, 8]; network { let x = input; for i in 0..20000000 { x = x; } return x; }
