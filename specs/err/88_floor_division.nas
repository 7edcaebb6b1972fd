// `//` written for integer division: it starts a comment, so `4;` vanishes and the next item
// is reported where the `;` belongs, with a hint to use `div`
space tiny;

param C = 72 // 4;

input [3, 32, 32];
network = input |> conv(C, 3) |> gap |> linear(10);
