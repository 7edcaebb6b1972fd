// an objective on a misspelled metric (`acuracy`; did you mean `accuracy`?)
input [3, 32, 32];
choice w in [16, 32] default 16;

network = input |> conv(w, 3) |> bn |> relu |> gap |> linear(10);

metric accuracy = external;
maximize acuracy;
minimize params;
