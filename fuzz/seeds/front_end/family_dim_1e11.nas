// expect: E0801
input [3, 8, 8]; choice d[100000000000] in [1, 2]; network = input;
