module @module {
  func.func @main(%arg0: !torch.vtensor<[1,8,12,12],f32>) -> !torch.vtensor<[1,32,12,12],f32> attributes {torch.assume_strict_symbolic_shapes} {
    %0 = torch.vtensor.literal(dense_resource<torch_tensor_32_8_1_1_torch.float32> : tensor<32x8x1x1xf32>) : !torch.vtensor<[32,8,1,1],f32>
    %1 = torch.vtensor.literal(dense_resource<torch_tensor_32_torch.float32> : tensor<32xf32>) : !torch.vtensor<[32],f32>
    %int1 = torch.constant.int 1
    %int1_0 = torch.constant.int 1
    %2 = torch.prim.ListConstruct %int1, %int1_0 : (!torch.int, !torch.int) -> !torch.list<int>
    %int0 = torch.constant.int 0
    %int0_1 = torch.constant.int 0
    %3 = torch.prim.ListConstruct %int0, %int0_1 : (!torch.int, !torch.int) -> !torch.list<int>
    %int1_2 = torch.constant.int 1
    %int1_3 = torch.constant.int 1
    %4 = torch.prim.ListConstruct %int1_2, %int1_3 : (!torch.int, !torch.int) -> !torch.list<int>
    %int1_4 = torch.constant.int 1
    %5 = torch.aten.conv2d %arg0, %0, %1, %2, %3, %4, %int1_4 : !torch.vtensor<[1,8,12,12],f32>, !torch.vtensor<[32,8,1,1],f32>, !torch.vtensor<[32],f32>, !torch.list<int>, !torch.list<int>, !torch.list<int>, !torch.int -> !torch.vtensor<[1,32,12,12],f32>
    %6 = torch.aten.relu %5 : !torch.vtensor<[1,32,12,12],f32> -> !torch.vtensor<[1,32,12,12],f32>
    %int1_5 = torch.constant.int 1
    %int1_6 = torch.constant.int 1
    %7 = torch.prim.ListConstruct %int1_5, %int1_6 : (!torch.int, !torch.int) -> !torch.list<int>
    %8 = torch.aten.adaptive_avg_pool2d %6, %7 : !torch.vtensor<[1,32,12,12],f32>, !torch.list<int> -> !torch.vtensor<[1,32,1,1],f32>
    %9 = torch.aten.sigmoid %8 : !torch.vtensor<[1,32,1,1],f32> -> !torch.vtensor<[1,32,1,1],f32>
    %10 = torch.aten.mul.Tensor %6, %9 : !torch.vtensor<[1,32,12,12],f32>, !torch.vtensor<[1,32,1,1],f32> -> !torch.vtensor<[1,32,12,12],f32>
    return %10 : !torch.vtensor<[1,32,12,12],f32>
  }
}
