// expect: E0801
input [3, 8, 8]; choice d[u in 0..100000][v in 0..100000] in [1, 2]; network = input;
