// expect: E0801
input [3, 8, 8]; choice d[9223372036854775807] in [1, 2]; network = input;
