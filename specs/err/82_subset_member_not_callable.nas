// a subset of numbers used as ops: its members are ints, not blocks
input [3, 32, 32];
subset ks of [3, 5, 7] size 1..=2;

network {
  let x = input |> conv(16, 3);
  return sum([x |> k for k in ks]) |> gap |> linear(10);
}
