// A 3-layer chain: each layer picks a kernel size and a width.
space tiny;

param classes = 10;
input [3, 32, 32];

block layer(x, k, c, s) = x |> conv(c, k, stride = s) |> bn |> relu;

choice kernel[3] in [3, 5, 7] default 3;
choice width[3] in [16, 32, 64] default 16;

network {
  let x = input;
  for i in 0..3 {
    x = layer(x, kernel[i], width[i], if i == 0 { 1 } else { 2 });
  }
  return x |> gap |> linear(classes);
}

metric params;
metric flops;
metric accuracy = external;

constraint flops <= 20M;
maximize accuracy;
