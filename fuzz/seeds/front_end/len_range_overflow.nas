// expect: E0801
input [3, 8, 8]; let n = len(range(-9223372036854775807, 9223372036854775807)); network = input;
