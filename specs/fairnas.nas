// FairNAS search space (Chu, Zhang & Xu, "FairNAS: Rethinking Evaluation Fairness of Weight
// Sharing Neural Architecture Search", ICCV 2021; github.com/xiaomi-automl/FairNAS).
// ImageNet, 224x224. A MobileNetV2-style chain: stem conv 3x3/2 (32), a fixed depthwise-
// separable block (16), then 19 searchable inverted-residual layers, 1x1 conv 1280, global
// average pooling and a 1000-way classifier. Each searchable layer is one of 6 inverted
// bottlenecks: kernel {3, 5, 7} x expansion {3, 6}, in the released code's order
// (0: e3 k3, 1: e3 k5, 2: e3 k7, 3: e6 k3, 4: e6 k5, 5: e6 k7), so the name below is the
// released models' 19-digit encoding (FairNAS-A, -B, -C).
// Stages (output width x layers, stride of the first layer): 32 x2 /2, 40 x4 /2, 80 x4 /2,
// 96 x4 /1, 192 x4 /2, 320 x1 /1. A layer is residual when its stride is 1 and its input and
// output widths agree. ReLU6 activations, BN after every conv, no conv biases except the
// classifier's.
// Counting: 19 independent layers with 6 options each: size 6^19 = 609,359,740,010,496
// (about 6.1e14). Check: FairNAS-A (arch "2023500551330053534") gets 4,619,096 params and
// 385.2M MACs here; the paper reports 4.6M and 388M.
space fairnas;

param classes = 1000;
param side = 224;

input [3, side, side];
count flops { conv, linear }

block cbr(x, c, k, s = 1) = x |> conv(c, k, stride = s) |> bn |> relu6;

// inverted bottleneck: 1x1 expansion to t x the input width, k x k depthwise, 1x1 projection
block mb(x, out, t, k, s) {
  let h = x.c * t;
  let y = x |> cbr(h, 1) |> dwconv(k, stride = s) |> bn |> relu6 |> conv(out, 1) |> bn;
  return if s == 1 && x.c == out { x + y } else { y };
}

block mb_e3_k3(x, out, s) = mb(x, out, 3, 3, s);
block mb_e3_k5(x, out, s) = mb(x, out, 3, 5, s);
block mb_e3_k7(x, out, s) = mb(x, out, 3, 7, s);
block mb_e6_k3(x, out, s) = mb(x, out, 6, 3, s);
block mb_e6_k5(x, out, s) = mb(x, out, 6, 5, s);
block mb_e6_k7(x, out, s) = mb(x, out, 6, 7, s);

choice layer[19] in [mb_e3_k3, mb_e3_k5, mb_e3_k7, mb_e6_k3, mb_e6_k5, mb_e6_k7];

network {
  let x = input |> cbr(32, 3, 2);
  // fixed depthwise-separable block: dw 3x3, BN, ReLU6, 1x1 to 16, BN
  x = x |> dwconv(3) |> bn |> relu6 |> conv(16, 1) |> bn;
  let l = 0;
  for stage in [[32, 2, 2], [40, 4, 2], [80, 4, 2], [96, 4, 1], [192, 4, 2], [320, 1, 1]] {
    for i in 0..stage[1] {
      x = x |> layer[l](stage[0], if i == 0 { stage[2] } else { 1 });
      l = l + 1;
    }
  }
  return x |> cbr(1280, 1) |> gap |> linear(classes);
}

metric params;
metric flops;
metric accuracy = external;
maximize accuracy;

// the released models' encoding: 19 digits 0..5
name arch = "{layer[*]:index}";
