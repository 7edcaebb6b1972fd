// a subset size must be an int or a range, not a list
input [3, 32, 32];
block b3(x) = x |> conv(x.c, 3) |> bn;
block b5(x) = x |> conv(x.c, 5) |> bn;

subset branches of [b3, b5] size [1, 2];

network {
  let x = input |> conv(16, 3);
  return sum([x |> b for b in branches]) |> gap |> linear(10);
}
