// expect: E0801
input [3, 8, 8]; choice a[60000] in [1, 2]; choice b[60000] in [1, 2]; network = input;
