module @module {
  func.func @main(%arg0: !torch.vtensor<[4,16],f32>) -> (!torch.vtensor<[4,8],f32>, !torch.vtensor<[4,8],f32>) attributes {torch.assume_strict_symbolic_shapes} {
    %0 = torch.vtensor.literal(dense_resource<torch_tensor_32_16_torch.float32> : tensor<32x16xf32>) : !torch.vtensor<[32,16],f32>
    %1 = torch.vtensor.literal(dense_resource<torch_tensor_32_torch.float32> : tensor<32xf32>) : !torch.vtensor<[32],f32>
    %2 = torch.aten.linear %arg0, %0, %1 : !torch.vtensor<[4,16],f32>, !torch.vtensor<[32,16],f32>, !torch.vtensor<[32],f32> -> !torch.vtensor<[4,32],f32>
    %str = torch.constant.str "tanh"
    %3 = torch.aten.gelu %2, %str : !torch.vtensor<[4,32],f32>, !torch.str -> !torch.vtensor<[4,32],f32>
    %4 = torch.vtensor.literal(dense_resource<torch_tensor_8_32_torch.float32> : tensor<8x32xf32>) : !torch.vtensor<[8,32],f32>
    %5 = torch.vtensor.literal(dense_resource<torch_tensor_8_torch.float32> : tensor<8xf32>) : !torch.vtensor<[8],f32>
    %6 = torch.aten.linear %3, %4, %5 : !torch.vtensor<[4,32],f32>, !torch.vtensor<[8,32],f32>, !torch.vtensor<[8],f32> -> !torch.vtensor<[4,8],f32>
    %int-1 = torch.constant.int -1
    %none = torch.constant.none
    %7 = torch.aten.softmax.int %6, %int-1, %none : !torch.vtensor<[4,8],f32>, !torch.int, !torch.none -> !torch.vtensor<[4,8],f32>
    %str_0 = torch.constant.str "none"
    %8 = torch.aten.gelu %6, %str_0 : !torch.vtensor<[4,8],f32>, !torch.str -> !torch.vtensor<[4,8],f32>
    return %7, %8 : !torch.vtensor<[4,8],f32>, !torch.vtensor<[4,8],f32>
  }
}
