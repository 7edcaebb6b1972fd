// constants defined in terms of each other
param C = 16;
let wide = 2 * narrow;
let narrow = wide div 2;

input [3, 32, 32];
network = input |> conv(C, 3) |> conv(wide, 3) |> bn |> relu |> gap |> linear(10);
