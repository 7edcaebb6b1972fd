// NSE's scaled-down supernet (docs/nse.md, "Reproduction"): the multi-branch space that
// `nasc search specs/nse_small.nas --strategy nse` searches on two CPU cores. A stride-2 3x3
// stem (16), 5 multi-branch layers [width, stride] = [16, 1], [24, 2], [24, 1], [32, 2],
// [32, 1] (layers 1 and 3 change shape: reduction layers, no identity path), a 1x1 head (64),
// global average pooling and a classifier; CIFAR-10-sized input by default (`--set side=8
// --set channels=1` for the embedded digits).
// The pool: 14 reasonable ops (depthwise k {3, 5, 7} x expansion {1, 3}, 3x3 dilated depthwise
// d {2, 3} x expansion {1, 3}, 1xk-kx1 convs k {3, 5} x expansion {1, 2}) and 2 deliberately
// poor ones (pooling, a 6x expansion, then a one-channel bottleneck: they cost MACs like the
// expanded ops but pass a rank-one signal). Subset size K = 4 (NSE's layer-wise subset size).
// Layer output (Eq. 1): the mean of the selected branches, plus the identity in a normal layer.
space nse_small;

param classes = 10;
param side = 32;
param channels = 3;

input [channels, side, side];
count flops { conv, linear }

block cbr(x, c, k, s = 1) = x |> conv(c, k, stride = s) |> bn |> relu;
block expand(x, t) = if t == 1 { x } else { cbr(x, x.c * t, 1) };
block dw(x, out, k, t, d, s) = expand(x, t) |> dwconv(k, stride = s, dilation = d) |> bn |> relu |> conv(out, 1) |> bn;
block ssc(x, out, k, t, s) {
  let y = expand(x, t);
  return y |> conv(y.c, [1, k], stride = s) |> bn |> relu |> conv(y.c, [k, 1]) |> bn |> relu |> conv(out, 1) |> bn;
}
block neck(x, out, p, t) = expand(p, t) |> conv(1, 1) |> bn |> relu |> conv(out, 1) |> bn;

block dw3_e1(x, out, s) = dw(x, out, 3, 1, 1, s);
block dw3_e3(x, out, s) = dw(x, out, 3, 3, 1, s);
block dw5_e1(x, out, s) = dw(x, out, 5, 1, 1, s);
block dw5_e3(x, out, s) = dw(x, out, 5, 3, 1, s);
block dw7_e1(x, out, s) = dw(x, out, 7, 1, 1, s);
block dw7_e3(x, out, s) = dw(x, out, 7, 3, 1, s);
block dil2_e1(x, out, s) = dw(x, out, 3, 1, 2, s);
block dil2_e3(x, out, s) = dw(x, out, 3, 3, 2, s);
block dil3_e1(x, out, s) = dw(x, out, 3, 1, 3, s);
block dil3_e3(x, out, s) = dw(x, out, 3, 3, 3, s);
block ssc3_e1(x, out, s) = ssc(x, out, 3, 1, s);
block ssc5_e1(x, out, s) = ssc(x, out, 5, 1, s);
block ssc3_e2(x, out, s) = ssc(x, out, 3, 2, s);
block ssc5_e2(x, out, s) = ssc(x, out, 5, 2, s);
block avgneck3_e6(x, out, s) = neck(x, out, x |> avgpool(3, stride = s), 6);
block maxneck5_e6(x, out, s) = neck(x, out, x |> maxpool(5, stride = s), 6);

let POOL = [
  dw3_e1, dw3_e3, dw5_e1, dw5_e3, dw7_e1, dw7_e3, dil2_e1, dil2_e3, dil3_e1, dil3_e3,
  ssc3_e1, ssc5_e1, ssc3_e2, ssc5_e2, avgneck3_e6, maxneck5_e6,
];
let LAYERS = [[16, 1], [24, 2], [24, 1], [32, 2], [32, 1]];
let REDUCTION = [1, 3];

subset branch[l in 0..5] of POOL size if l in REDUCTION { 1..=4 } else { 0..=4 };

network {
  let x = input |> cbr(16, 3, 2);
  for l in 0..5 {
    let ops = [op(x, LAYERS[l][0], LAYERS[l][1]) for op in branch[l]];
    x = if l in REDUCTION { mean(ops) } else { mean([x] + ops) };
  }
  return x |> cbr(64, 1) |> gap |> linear(classes);
}

metric params;
metric flops;
metric accuracy = external;
maximize accuracy;
