// expect: E0801
input [3, 8, 8]; let l = [[j for j in range(1000000)] for i in range(1000000)]; network = input;
