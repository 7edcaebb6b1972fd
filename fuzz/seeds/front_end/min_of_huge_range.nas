// expect: E0801
input [3, 8, 8]; let m = min(range(0, 1000000000000)); network = input;
