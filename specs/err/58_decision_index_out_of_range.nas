// a decision family indexed past its end (`edge` has indices 0..3)
input [3, 32, 32];
block conv3(x) = x |> relu |> conv(x.c, 3) |> bn;
choice edge[3] in [identity, conv3] default identity;

block cell(x) {
  node n1 = x |> edge[0];
  node n2 = (x |> edge[1]) + (n1 |> edge[2]);
  node n3 = n2 |> edge[3];
  return n3;
}

network = input |> conv(16, 3) |> cell |> gap |> linear(10);
