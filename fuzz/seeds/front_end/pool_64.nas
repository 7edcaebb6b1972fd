// expect: E0406
input [3, 8, 8]; subset keep of range(64) size 1; network = input;
