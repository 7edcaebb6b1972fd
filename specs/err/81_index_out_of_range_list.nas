// a list indexed past its end: `widths` has 3 entries, the loop reads 4
param C = 16;
let widths = [C, 2 * C, 4 * C];
input [3, 32, 32];
choice k in [3, 5] default 3;

network {
  let x = input |> conv(C, 3) |> bn |> relu;
  for s in 0..4 {
    x = x |> conv(widths[s], k, stride = 2) |> bn |> relu;
  }
  return x |> gap |> linear(10);
}
