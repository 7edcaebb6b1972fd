// a cell edge option misspelled: `nor_conv_3x` is not a block (did you mean `nor_conv_3x3`?)
input [3, 32, 32];

block rcb(x, c, k) = x |> relu |> conv(c, k) |> bn;
block skip_connect(x) = identity(x);
block nor_conv_1x1(x) = rcb(x, x.c, 1);
block nor_conv_3x3(x) = rcb(x, x.c, 3);

choice edge[3] in [skip_connect, nor_conv_1x1, nor_conv_3x] default skip_connect;

block cell(x) {
  node n1 = x |> edge[0];
  node n2 = (x |> edge[1]) + (n1 |> edge[2]);
  return n2;
}

network = input |> conv(16, 3) |> bn |> cell |> cell |> gap |> linear(10);
