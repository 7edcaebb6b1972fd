// `*` on tensors needs equal shapes or a [c, 1, 1] side with the other's channels: a gate of
// 8 channels on a 16-channel map is a shape mismatch
space t;

input [3, 8, 8];
network {
  let x = input |> conv(16, 3);
  let g = x |> gap |> conv(8, 1) |> sigmoid;
  return x * g |> gap |> linear(10);
}
