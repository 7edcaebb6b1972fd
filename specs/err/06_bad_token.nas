// `@` is not a token of the language (matrix multiply does not exist)
input [3, 32, 32];
choice w in [16, 32] default 16;

network {
  let x = input |> conv(w, 3) |> bn;
  let y = x @ x;
  return y |> gap |> linear(10);
}
