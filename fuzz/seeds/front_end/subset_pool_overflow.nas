// expect: E0801
input [3, 8, 8]; subset s of range(-1, 9223372036854775807) size 1; network = input;
