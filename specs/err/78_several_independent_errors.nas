// several independent errors, all reported in one run: a duplicate param, an unknown count term,
// an unknown op (`rleu`), a wrong argument count, a constraint and an objective on unknown
// metrics
param C = 16;
param C = 32;
input [3, 32, 32];
choice k in [3, 5, 7] default 3;

count flops { conv, linaer }

block conv_bn(x, c, k) = x |> conv(c, k) |> bn;

network {
  let x = input |> conv_bn(C, k) |> rleu;
  x = x |> conv_bn(C);
  return x |> gap |> linear(10);
}

metric params;
constraint parms <= 1M;
maximize accuracy;
