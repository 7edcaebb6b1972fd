// expect: E0801
input [3, 8, 8]; network { let x = input; for i in range(-1, 9223372036854775807) { x = x; } return x; }
