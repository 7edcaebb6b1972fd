// expect: E0801
input [3, 8, 8]; choice d[30] in range(100000); network = input;
