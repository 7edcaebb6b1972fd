// POPNASv2 cell search space (Falanti, Lomurno, Samele, Ardagna & Matteucci, "POPNASv2: An
// Efficient Multi-Objective Neural Architecture Search Technique", IJCNN 2022, section 3.1;
// network as the authors' builder, github.com/AndreaFalanti/popnas: models/model_generator.py,
// models/op_instantiator.py, models/operators/common.py). CIFAR-10 setting of section 4.1.
// A cell has b = 1..B blocks, B = 5. Block c is a tuple (in1, op1, in2, op2) whose two results
// are joined by add; an input is a lookback, -1 (the previous cell's output) or -2 (the one
// before, the maximum lookback), or the output of an earlier block of the same cell. The 12
// operators: 3x3, 5x5, 7x7 depthwise-separable conv; 1x3-3x1, 1x5-5x1, 1x7-7x1 stacked conv;
// identity; 1x1, 3x3, 5x5 conv; 2x2 max and average pooling. One cell structure is used for
// normal and reduction cells (as PNAS); in a reduction cell the ops reading a lookback have
// stride 2. Every conv is the builder's unit: conv with bias and TF "same" padding, BN, swish;
// a separable conv has the bias on its pointwise part; identity (and pooling) get a 1x1 unit
// when the stride (depth) must change.
// Network: M = 3 motifs of N = 2 normal cells, a reduction cell (filters x 2) between motifs,
// 8 cells, F = 24 filters at first (the released configuration; the paper does not give it),
// the first cell reads the image as both -1 and -2; global average pooling; softmax classifier.
// The cell after a reduction cell brings its -2 input to the new shape with a strided 1x1 unit.
// Counting: block c (0-based) has c + 2 inputs and 12 ops for each of its two (input, op)
// pairs, (12 (c + 2))^2 choices; a cell of n blocks has prod_{c<n} (12 (c + 2))^2, and
//   size = sum_{n=1..5} prod_{c=0..n-1} (12 (c + 2))^2
//        = 576 + 746,496 + 1,719,926,784 + 6,191,736,422,400 + 32,097,961,613,721,600
//        = 32,104,155,070,817,856 (about 3.2e16).
// These are cell encodings: (in1, op1) and (in2, op2) in either order, or the blocks in another
// order, give the same network (POPNAS's equivalence checks; canonical keys, not the count,
// identify them). The paper's "upper bound ... around 10^15" counts 5-block cells with
// unordered pairs: prod_{c<5} n (n + 1) / 2 with n = 12 (c + 2) = 1,130,002,114,752,000.
// Deviations (the language/compiler cannot express them at an acceptable cost):
// (1) The cell output concatenates ALL block outputs (then a 1x1 unit to F, none for a 1-block
//     cell): POPNAS's `concat_only_unused_blocks: false` setting. POPNASv2 concatenates only
//     the outputs no later block reads; that form compiles but takes about a minute per cell
//     (specs/repro/05).
// (2) The -2 input of the cell after a reduction cell is always reshaped; POPNAS does it only
//     when some block reads -2, and also skips cells whose output the network never reads
//     (when no block reads -1). Here every cell is built.
space popnas_cell;

param classes = 10;
param side = 32;
param F = 24;   // filters of the first motif (doubled at each reduction cell)
param M = 3;    // motifs
param N = 2;    // normal cells per motif

input [3, side, side];
count flops { conv, linear }

// POPNAS's Convolution unit: conv (with bias, TF "same" padding), BN, swish
block cbs(x, f, k, s = 1) = x |> conv(f, k, stride = s, padding = "same", bias = true) |> bn |> swish;

// the 12 operators, each (input, filters, stride); stride 2 on lookback inputs of reduction cells
block dconv(x, f, k, s) = x |> dwconv(k, stride = s, padding = "same") |> conv(f, 1, bias = true) |> bn |> swish;
block dconv_3x3(x, f, s) = dconv(x, f, 3, s);
block dconv_5x5(x, f, s) = dconv(x, f, 5, s);
block dconv_7x7(x, f, s) = dconv(x, f, 7, s);
block stack_1x3_3x1(x, f, s) = x |> cbs(f, [1, 3], s) |> cbs(f, [3, 1]);
block stack_1x5_5x1(x, f, s) = x |> cbs(f, [1, 5], s) |> cbs(f, [5, 1]);
block stack_1x7_7x1(x, f, s) = x |> cbs(f, [1, 7], s) |> cbs(f, [7, 1]);
// identity: a 1x1 Convolution unit when the stride or the depth must change
block identity_op(x, f, s) = if s == 1 && x.c == f { identity(x) } else { cbs(x, f, 1, s) };
block conv_1x1(x, f, s) = cbs(x, f, 1, s);
block conv_3x3(x, f, s) = cbs(x, f, 3, s);
block conv_5x5(x, f, s) = cbs(x, f, 5, s);
// pooling: a 1x1 Convolution unit after it when the depth must change
block pool_depth(y, f) = if y.c == f { y } else { cbs(y, f, 1) };
block maxpool_2x2(x, f, s) = x |> maxpool(2, stride = s, padding = "same") |> pool_depth(f);
block avgpool_2x2(x, f, s) = x |> avgpool(2, stride = s, padding = "same") |> pool_depth(f);

let OPS = [dconv_3x3, dconv_5x5, dconv_7x7, stack_1x3_3x1, stack_1x5_5x1, stack_1x7_7x1,
           identity_op, conv_1x1, conv_3x3, conv_5x5, maxpool_2x2, avgpool_2x2];

// B = 5: a cell has 1..5 blocks (in1, op1, in2, op2); block b reads -2 / -1 (the outputs of the
// cells two and one back) or the output of an earlier block 0..b-1 of the same cell
choice blocks in [1, 2, 3, 4, 5];
choice in1[b in 0..5] in [-2, -1] + [i for i in 0..b] when blocks > b;
choice op1[b in 0..5] in OPS when blocks > b;
choice in2[b in 0..5] in [-2, -1] + [i for i in 0..b] when blocks > b;
choice op2[b in 0..5] in OPS when blocks > b;

block cell(p2, p1, f, reduction) {
  // the tensors a block may read: [-2, -1, block 0, block 1, ...] at index input + 2
  let all = [p2, p1];
  for b in 0..5 {
    if blocks > b {
      let l = all[in1[b] + 2] |> op1[b](f, if reduction && in1[b] < 0 { 2 } else { 1 });
      let r = all[in2[b] + 2] |> op2[b](f, if reduction && in2[b] < 0 { 2 } else { 1 });
      all = all + [l + r];
    }
  }
  let outs = [all[b + 2] for b in 0..blocks];
  return if blocks == 1 { outs[0] } else { concat(outs) |> cbs(f, 1) };
}

network {
  let p2 = input;
  let p1 = input;
  let f = F;
  for m in 0..M {
    for i in 0..N {
      // the cell after a reduction cell first brings its -2 input to the new shape
      if m > 0 && i == 0 { p2 = cbs(p2, f, 1, 2); }
      let out = cell(p2, p1, f, false);
      p2 = p1;
      p1 = out;
    }
    if m + 1 < M {
      f = f * 2;
      let out = cell(p2, p1, f, true);
      p2 = p1;
      p1 = out;
    }
  }
  return p1 |> gap |> linear(classes);
}

metric params;
metric flops;
metric accuracy = external;
maximize accuracy;
