// expect: E0403
input [3, 8, 8]; subset s of [1, 2] size -9223372036854775807-1..-9223372036854775807-1; network = input;
