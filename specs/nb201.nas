// NAS-Bench-201 / NATS-Bench topology search space (Dong & Yang, ICLR 2020).
// A cell of 4 nodes and 6 edges, each edge one of 5 ops, stacked 3 x N times with one shared
// genotype; stem, two residual reduction blocks, BN-ReLU-GAP-linear head. Params and FLOPs
// follow the benchmark's own code and counting rule (github.com/D-X-Y/NATS-Bench, `get_cell_based_tiny_net`):
// the FLOPs count convolutions and the classifier including its bias; pooling is not counted.
// Size: 5^6 = 15,625.
space nb201;

param classes = 10;   // 10 (CIFAR-10), 100 (CIFAR-100), 120 (ImageNet16-120)
param side = 32;      // 32 for CIFAR, 16 for ImageNet16-120
param C = 16;
param N = 5;

input [3, side, side];
count flops { conv, linear, linear_bias }

// ReLU -> conv -> BN (pre-activation), no conv bias
block rcb(x, c, k, s = 1) = x |> relu |> conv(c, k, stride = s) |> bn;

block none(x) = zero(x);
block skip_connect(x) = identity(x);
block nor_conv_1x1(x) = rcb(x, x.c, 1);
block nor_conv_3x3(x) = rcb(x, x.c, 3);
block avg_pool_3x3(x) = avgpool(x, 3, stride = 1, padding = 1);

// edge order (0->1), (0->2), (1->2), (0->3), (1->3), (2->3), as the benchmark's `ops` column
choice edge[6] in [none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3] default none;

block cell(x) {
  node n1 = x |> edge[0];
  node n2 = (x |> edge[1]) + (n1 |> edge[2]);
  node n3 = (x |> edge[3]) + (n1 |> edge[4]) + (n2 |> edge[5]);
  return n3;
}

// residual reduction block between stages: two ReLUConvBN and an avgpool + 1x1 conv shortcut
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
maximize accuracy;

// the benchmark's own arch string
name arch = "|{edge[0]}~0|+|{edge[1]}~0|{edge[2]}~1|+|{edge[3]}~0|{edge[4]}~1|{edge[5]}~2|";
