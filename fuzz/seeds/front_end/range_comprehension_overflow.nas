// expect: E0801
input [3, 8, 8]; let l = [i for i in -1..9223372036854775807]; network = input;
