// three independent syntax errors: each is reported, and parsing recovers at the next item
input [3, 32, 32];
choice w in [16, 32, 64] default 16
choice k in [3, 5, 7] default 3;

block conv_bn(x, c, k) = x |> conv(c, k) |> bn;

block head(x) {
  let y = x |> gap;
  return y |> linear(10;
}

network {
  let x = input |> conv_bn(w, k) |> relu;
  return x |> head;
}

constraint params <= <= 1M;
metric params;
