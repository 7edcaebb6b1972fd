// expect: E0801
input [3, 8, 8]; choice c in range(100001); network = input;
