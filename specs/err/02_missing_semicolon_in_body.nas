// missing `;` after a `let` statement inside the network body
input [3, 32, 32];
choice w in [16, 32, 64] default 16;

network {
  let x = input |> conv(w, 3) |> bn
  x = x |> relu;
  return x |> gap |> linear(10);
}
