// DARTS CIFAR-10 search space, evaluation network (Liu, Simonyan & Yang, "DARTS: Differentiable
// Architecture Search", ICLR 2019; github.com/quark0/darts, model.py / operations.py).
// Two cells with separate genotypes, normal and reduction. A cell has two inputs (the outputs
// of the two previous cells, preprocessed) and 4 intermediate nodes; node j (0-based) picks 2
// distinct inputs among its j + 2 predecessors (0, 1 = the cell inputs, 2 + i = node i) and an
// op for each, and sums the two results; the cell output concatenates the 4 nodes (4C
// channels). Ops: the 7 non-zero DARTS ops, sep_conv_3x3, sep_conv_5x5, dil_conv_3x3,
// dil_conv_5x5, max_pool_3x3, avg_pool_3x3, skip_connect. DARTS searches with an 8th op,
// `none`, but its discretization drops `none`, so no final genotype contains it: we leave it
// out. In the reduction cell the ops reading the two cell inputs have stride 2 (skip_connect
// becomes FactorizedReduce).
// Network (evaluation): stem conv 3x3 (3C) + BN; 20 cells at C = 36, reductions (C doubled) at
// cells 6 and 13 (1/3 and 2/3 of the depth); a cell preprocesses its input from two cells back
// with FactorizedReduce when the previous cell reduced, else ReLU-conv1x1-BN, and its input from
// the previous cell with ReLU-conv1x1-BN; global average pooling; linear 10. The auxiliary head
// (training only) is not part of the network. Check: DARTS (V2)'s genotype has 3,349,342 params
// here, the "param size = 3.349342MB" of the DARTS training logs (the paper: 3.3M).
// Decisions: `normal_in[j]`, the subset of node j's 2 inputs (DARTS's discretization keeps the
// top-2 distinct inputs of a node), and `normal_op[j][i]`, the op on edge i -> j, which exists
// only when i is one of them (`when i in normal_in[j]`); the same for `reduce_*`.
// Counting: node j chooses one of C(j + 2, 2) input pairs and one of 7 ops for each of its 2
// edges, so a cell has C(2,2) C(3,2) C(4,2) C(5,2) x 7^8 = 1 x 3 x 6 x 10 x 5,764,801 =
// 1,037,664,180 genotypes, and the two independent cells give 1,037,664,180^2 =
// 1,076,746,950,455,072,400 (about 1.1e18) candidates.
space darts;

param classes = 10;
param C = 36;
param layers = 20;

input [3, 32, 32];
count flops { conv, linear }

block relu_conv_bn(x, c) = x |> relu |> conv(c, 1) |> bn;

// two 1x1 stride-2 convs (the second on the input shifted by one pixel), concatenated
block factorized_reduce(x, c) {
  let y = relu(x);
  return concat([conv(y, c div 2, 1, stride = 2, padding = 0), conv(y, c div 2, 1, stride = 2, padding = 0)]) |> bn;
}

block sep(x, k, s) {
  let c = x.c;
  return x |> relu |> dwconv(k, stride = s) |> conv(c, 1) |> bn
           |> relu |> dwconv(k) |> conv(c, 1) |> bn;
}
block dil(x, k, s) = x |> relu |> dwconv(k, stride = s, dilation = 2) |> conv(x.c, 1) |> bn;

block sep_conv_3x3(x, s) = sep(x, 3, s);
block sep_conv_5x5(x, s) = sep(x, 5, s);
block dil_conv_3x3(x, s) = dil(x, 3, s);
block dil_conv_5x5(x, s) = dil(x, 5, s);
block max_pool_3x3(x, s) = maxpool(x, 3, stride = s, padding = 1);
block avg_pool_3x3(x, s) = avgpool(x, 3, stride = s, padding = 1);
block skip_connect(x, s) = if s == 1 { identity(x) } else { factorized_reduce(x, x.c) };

let OPS = [sep_conv_3x3, sep_conv_5x5, dil_conv_3x3, dil_conv_5x5, max_pool_3x3, avg_pool_3x3, skip_connect];

// node j's two inputs (0, 1 = the cell inputs, 2 + i = node i) and the ops of its two edges
subset normal_in[j in 0..4] of range(j + 2) size 2;
choice normal_op[j in 0..4][i in 0..j + 2] in OPS when i in normal_in[j];
subset reduce_in[j in 0..4] of range(j + 2) size 2;
choice reduce_op[j in 0..4][i in 0..j + 2] in OPS when i in reduce_in[j];

block cell(pp, p, c, reduction, reduction_prev) {
  let s0 = if reduction_prev { factorized_reduce(pp, c) } else { relu_conv_bn(pp, c) };
  let states = [s0, relu_conv_bn(p, c)];
  for j in 0..4 {
    let branches = [];
    if reduction {
      for i in reduce_in[j] {
        branches = branches + [states[i] |> reduce_op[j][i](if i < 2 { 2 } else { 1 })];
      }
    } else {
      for i in normal_in[j] {
        branches = branches + [states[i] |> normal_op[j][i](1)];
      }
    }
    states = states + [sum(branches)];
  }
  return concat([states[2], states[3], states[4], states[5]]);
}

network {
  let s = input |> conv(3 * C, 3) |> bn;
  let pp = s;
  let p = s;
  let c = C;
  let reduction_prev = false;
  for i in 0..layers {
    let reduction = i == layers div 3 || i == 2 * layers div 3;
    if reduction { c = c * 2; }
    let out = cell(pp, p, c, reduction, reduction_prev);
    pp = p;
    p = out;
    reduction_prev = reduction;
  }
  return p |> gap |> linear(classes);
}

metric params;
metric flops;
metric accuracy = external;
maximize accuracy;
