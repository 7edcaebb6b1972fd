// NSE 27-op multi-branch space (Ci, Lin, Sun, Chen, Zhang & Ouyang, "Evolving Search Space for
// Neural Architecture Search", ICCV 2021): the FLOPs-constraint macro-architecture of Table 5
// with the "27 OPs space" of appendix A.1 and layer-wise subset size K = 5 (Table 7, A.4).
// Macro (ImageNet 224x224): conv 3x3/2 (16); 22 multi-branch layers (MBL) in groups of
// (width, layers, first stride) = (16, 1, 1), (24, 4, 2), (40, 4, 2), (80, 4, 2), (96, 4, 1),
// (192, 4, 2), (320, 1, 1); conv 1x1 (1024); 7x7 average pooling; classifier. A layer is a
// reduction layer when C_in != C_out: the first layer of each group except the first group,
// i.e. 6 reduction layers (1, 5, 9, 13, 17, 21) and 16 normal layers.
// The pool (A.1): depthwise conv k {3, 5, 7, 9, 11} x expansion {1, 3, 6} (15 ops), 3x3
// dilated depthwise conv dilation {2, 3} x expansion {1, 3, 6} (6), and 1xk-kx1 convs
// k {5, 7} x expansion {1, 2, 4} (6): 27 ops. Each op maps C_in -> C_out with the layer's
// stride: 1x1 expansion to T x C_in (none when T = 1), the spatial convs, a linear 1x1
// projection, BN after every conv, ReLU (the paper's base setting, no SE / swish).
// Layer output (Eq. 1): the mean of the selected branches; a normal layer also has the identity
// path, always on (A.3), not one of the 27; a reduction layer has no identity, so it selects
// at least 1 op. Hence normal layers select 0..=5 ops and reduction layers 1..=5 (K = 5).
// Counting (A.4): Comb_norm = sum_{k=0..5} C(27, k) = 101,584 and Comb_redu = sum_{k=1..5}
// C(27, k) = 101,583, so the size is 101,584^16 x 101,583^6 =
// 141296421377995121545087533989638751484532975140183283001476100607208515189849903609314128737867085584116219904
// (about 1.41e110), the paper's "1.4 x 10^110".
// Deviations: (1) Figure 6 (the op diagrams) is an image missing from our copy: the op internals
// above (MobileNetV2-style inverted bottleneck; the 1xk-kx1 op as full, non-grouped 1xk and kx1
// convs on the expanded width, as in Inception-ResNet, where A.1 says it comes from) are our
// reading of A.1. (2) Table 5's classifier row says "fc 1024"; we use `classes` (1000) outputs.
// NSE's search targets about 330M FLOPs (NSENet-27: 325M); not a constraint here, since
// uniform sampling of this space almost never meets it.
space nse_multibranch_27ops;

param classes = 1000;
param side = 224;

input [3, side, side];
count flops { conv, linear }

block cbr(x, c, k, s = 1) = x |> conv(c, k, stride = s) |> bn |> relu;

// expansion 1x1 (none when t = 1), then the spatial part, then a linear 1x1 projection
block expand(x, t) = if t == 1 { x } else { cbr(x, x.c * t, 1) };
block dw(x, out, k, t, s) = expand(x, t) |> dwconv(k, stride = s) |> bn |> relu |> conv(out, 1) |> bn;
block dil(x, out, d, t, s) = expand(x, t) |> dwconv(3, stride = s, dilation = d) |> bn |> relu |> conv(out, 1) |> bn;
block ssc(x, out, k, t, s) {
  let y = expand(x, t);
  return y |> conv(y.c, [1, k], stride = s) |> bn |> relu |> conv(y.c, [k, 1]) |> bn |> relu |> conv(out, 1) |> bn;
}

block dw3_e1(x, out, s) = dw(x, out, 3, 1, s);
block dw3_e3(x, out, s) = dw(x, out, 3, 3, s);
block dw3_e6(x, out, s) = dw(x, out, 3, 6, s);
block dw5_e1(x, out, s) = dw(x, out, 5, 1, s);
block dw5_e3(x, out, s) = dw(x, out, 5, 3, s);
block dw5_e6(x, out, s) = dw(x, out, 5, 6, s);
block dw7_e1(x, out, s) = dw(x, out, 7, 1, s);
block dw7_e3(x, out, s) = dw(x, out, 7, 3, s);
block dw7_e6(x, out, s) = dw(x, out, 7, 6, s);
block dw9_e1(x, out, s) = dw(x, out, 9, 1, s);
block dw9_e3(x, out, s) = dw(x, out, 9, 3, s);
block dw9_e6(x, out, s) = dw(x, out, 9, 6, s);
block dw11_e1(x, out, s) = dw(x, out, 11, 1, s);
block dw11_e3(x, out, s) = dw(x, out, 11, 3, s);
block dw11_e6(x, out, s) = dw(x, out, 11, 6, s);
block dil2_e1(x, out, s) = dil(x, out, 2, 1, s);
block dil2_e3(x, out, s) = dil(x, out, 2, 3, s);
block dil2_e6(x, out, s) = dil(x, out, 2, 6, s);
block dil3_e1(x, out, s) = dil(x, out, 3, 1, s);
block dil3_e3(x, out, s) = dil(x, out, 3, 3, s);
block dil3_e6(x, out, s) = dil(x, out, 3, 6, s);
block ssc5_e1(x, out, s) = ssc(x, out, 5, 1, s);
block ssc5_e2(x, out, s) = ssc(x, out, 5, 2, s);
block ssc5_e4(x, out, s) = ssc(x, out, 5, 4, s);
block ssc7_e1(x, out, s) = ssc(x, out, 7, 1, s);
block ssc7_e2(x, out, s) = ssc(x, out, 7, 2, s);
block ssc7_e4(x, out, s) = ssc(x, out, 7, 4, s);

let POOL = [
  dw3_e1, dw3_e3, dw3_e6, dw5_e1, dw5_e3, dw5_e6, dw7_e1, dw7_e3, dw7_e6,
  dw9_e1, dw9_e3, dw9_e6, dw11_e1, dw11_e3, dw11_e6,
  dil2_e1, dil2_e3, dil2_e6, dil3_e1, dil3_e3, dil3_e6,
  ssc5_e1, ssc5_e2, ssc5_e4, ssc7_e1, ssc7_e2, ssc7_e4,
];

// the 22 multi-branch layers: [output width, stride]; reduction layers (C_in != C_out) at
// 1, 5, 9, 13, 17, 21
let LAYERS = [
  [16, 1],
  [24, 2], [24, 1], [24, 1], [24, 1],
  [40, 2], [40, 1], [40, 1], [40, 1],
  [80, 2], [80, 1], [80, 1], [80, 1],
  [96, 1], [96, 1], [96, 1], [96, 1],
  [192, 2], [192, 1], [192, 1], [192, 1],
  [320, 1],
];
let REDUCTION = [1, 5, 9, 13, 17, 21];

subset branch[l in 0..22] of POOL size if l in REDUCTION { 1..=5 } else { 0..=5 };

network {
  let x = input |> cbr(16, 3, 2);
  for l in 0..22 {
    let out = LAYERS[l][0];
    let s = LAYERS[l][1];
    let ops = [op(x, out, s) for op in branch[l]];
    // Eq. 1: the mean of the selected paths; normal layers always have the identity path
    x = if l in REDUCTION { mean(ops) } else { mean([x] + ops) };
  }
  return x |> cbr(1024, 1) |> gap |> linear(classes);
}

metric params;
metric flops;
metric accuracy = external;
maximize accuracy;
