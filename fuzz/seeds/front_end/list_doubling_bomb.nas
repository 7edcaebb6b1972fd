// expect: E0801
input [3, 8, 8]; block d(l, n) { let m = l; if n > 0 { m = d(l + l, n - 1); } return m; } let z = d([1], 40); network = input;
