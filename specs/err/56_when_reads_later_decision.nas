// a `when` condition that reads a decision declared after it
input [3, 32, 32];
choice k[j in 0..3] in [3, 5] default 3 when depth > j;
choice depth in [1, 2, 3] default 1;

network {
  let x = input |> conv(16, 3) |> bn |> relu;
  for j in 0..3 {
    if depth > j { x = x |> conv(16, k[j]) |> bn |> relu; }
  }
  return x |> gap |> linear(10);
}
