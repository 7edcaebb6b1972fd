// Gates: squeeze-excite with a chosen activation and gate, the same gate written out with a
// tensor product (`[c, 1, 1] * [c, h, w]`), a spatial gate (a product of equal shapes), and
// dropout. The ONNX export test runs its candidates in onnxruntime against nasc's forward.
space tensor_gates;

param classes = 10;

input [3, 16, 16];

choice act in [relu, silu, hswish];
choice gate in [sigmoid, hsigmoid];
choice drop in [0.0, 0.25];

network {
  let x = input |> conv(16, 3, stride = 2) |> bn |> act;
  x = x |> se(4, act = act, gate = gate);
  let s = x |> gap |> conv(4, 1, bias = true) |> act |> conv(16, 1, bias = true) |> gate;
  x = s * x;
  x = x * (x |> conv(16, 1) |> gate);
  return x |> dropout(drop) |> gap |> linear(classes);
}

metric params;
metric accuracy = external;
maximize accuracy;
