// NAS-Bench-201 (Dong & Yang, ICLR 2020)
space nb201;
param classes = 10;
param C = 16;
param N = 5;
param side = 32;
input [3, side, side];
count flops { conv, linear, linear_bias }

block rcb(x, c, k, s = 1) = x |> relu |> conv(c, k, stride = s) |> bn;
block none(x) = zero(x);
block skip_connect(x) = identity(x);
block nor_conv_1x1(x) = rcb(x, x.c, 1);
block nor_conv_3x3(x) = rcb(x, x.c, 3);
block avg_pool_3x3(x) = avgpool(x, 3, stride = 1, padding = 1);

choice edge[6] in [none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3] default none;

block cell(x) {
  node n3 = (x |> edge[3]) + (n1 |> edge[4]) + (n2 |> edge[5]);
  node n1 = x |> edge[0];
  node n2 = (x |> edge[1]) + (n1 |> edge[2]);
  return n3;
}
block reduction(x, c) {
  let main = x |> rcb(c, 3, 2) |> rcb(c, 3);
  let short = x |> avgpool(2, stride = 2, padding = 0) |> conv(c, 1);
  return main + short;
}
network {
  let x = input |> conv(C, 3) |> bn;
  for s in 0..3 {
    if s > 0 { x = reduction(x, C * 2 ** s); }
    for i in 0..N { x = cell(x); }
  }
  return x |> bn |> relu |> gap |> linear(classes);
}
metric params;
metric flops;
metric accuracy = external;
metric mflops = flops / 1M;
constraint flops <= 300M;
constraint params in 0..2M;
maximize accuracy;
name arch = "|{edge[0]}~0|+|{edge[1]}~0|{edge[2]}~1|+|{edge[3]}~0|{edge[4]}~1|{edge[5]}~2|";
choice k[u in 0..5][j in 0..4] in [3, 5, 7] default 3 when depth[u] > j;
subset inputs[j in 0..4] of range(j + 2) size 2;
subset branch[l in 0..22] of POOL size 0..=5;
