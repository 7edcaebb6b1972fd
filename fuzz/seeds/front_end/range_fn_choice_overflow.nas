// expect: E0801
input [3, 8, 8]; choice c in range(-1, 9223372036854775807); network = input;
