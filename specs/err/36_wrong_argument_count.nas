// a block called with too few arguments (the piped value counts as the first one)
input [3, 32, 32];
choice w in [16, 32] default 16;

block conv_bn_relu(x, c, k, s = 1) = x |> conv(c, k, stride = s) |> bn |> relu;

network {
  let x = input |> conv_bn_relu(w);
  x = x |> conv_bn_relu(2 * w, 3, 2, 1);
  return x |> gap |> linear(10);
}
