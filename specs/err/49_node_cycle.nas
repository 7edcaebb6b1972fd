// a cycle among the `node`s of a cell: n2 reads n3 and n3 reads n2
input [3, 32, 32];
block conv3(x) = x |> relu |> conv(x.c, 3) |> bn;
choice edge[4] in [identity, conv3] default identity;

block cell(x) {
  node n1 = x |> edge[0];
  node n2 = (n1 |> edge[1]) + (n3 |> edge[2]);
  node n3 = n2 |> edge[3];
  return n3;
}

network = input |> conv(16, 3) |> cell |> gap |> linear(10);
