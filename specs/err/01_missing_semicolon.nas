// missing `;` after a param item: the error points right after `16`, where the `;` belongs
space tiny;

param C = 16
param classes = 10;

input [3, 32, 32];
choice k in [3, 5, 7] default 3;

network {
  let x = input |> conv(C, k) |> bn |> relu;
  return x |> gap |> linear(classes);
}
