// a `return` followed by more statements
input [3, 32, 32];
choice w in [16, 32] default 16;

block stem(x, c) {
  let y = x |> conv(c, 3) |> bn;
  return y;
  y = y |> relu;
}

network = input |> stem(w) |> gap |> linear(10);
