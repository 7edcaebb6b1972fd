// expect: ok
input [3, 8, 8]; let r = 0..9223372036854775807; let n = r[9223372036854775806]; network = input;
