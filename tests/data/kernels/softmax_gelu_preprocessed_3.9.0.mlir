  util.func public @main$async(%arg0: !hal.buffer_view, %arg1: !hal.fence, %arg2: !hal.fence) -> (!hal.buffer_view, !hal.buffer_view) attributes {inlining_policy = #util.inline.never, iree.abi.model = "coarse-fences", iree.abi.stub} {
    %cst = arith.constant dense_resource<torch_tensor_8_torch.float32> : tensor<8xf32> loc("model.mlir":9:10)
    %cst_0 = arith.constant dense_resource<torch_tensor_8_32_torch.float32> : tensor<8x32xf32> loc("model.mlir":8:10)
    %cst_1 = arith.constant dense_resource<torch_tensor_32_16_torch.float32> : tensor<32x16xf32> loc("model.mlir":3:10)
    %cst_2 = arith.constant dense_resource<torch_tensor_32_torch.float32> : tensor<32xf32> loc("model.mlir":4:10)
    %cst_3 = arith.constant 0.000000e+00 : f32 loc("model.mlir":5:10)
    %c3_i64 = arith.constant 3 : i64 loc(unknown)
    %cst_4 = arith.constant 4.471500e-02 : f32 loc(unknown)
    %cst_5 = arith.constant 7.977240e-01 : f32 loc(unknown)
    %cst_6 = arith.constant 1.000000e+00 : f32 loc(unknown)
    %cst_7 = arith.constant 5.000000e-01 : f32 loc(unknown)
    %c0_i64 = arith.constant 0 : i64 loc("model.mlir":13:10)
    %cst_8 = arith.constant 0xFF800000 : f32 loc("model.mlir":13:10)
    %cst_9 = arith.constant 1.41421354 : f32 loc(unknown)
    %0 = hal.tensor.import wait(%arg1) => %arg0 : !hal.buffer_view -> tensor<4x16xf32> loc("model.mlir":2:19)
    %1 = tensor.empty() : tensor<16x32xf32> loc("model.mlir":5:10)
    %transposed = linalg.transpose ins(%cst_1 : tensor<32x16xf32>) outs(%1 : tensor<16x32xf32>) permutation = [1, 0]  loc("model.mlir":5:10)
    %2 = tensor.empty() : tensor<4x32xf32> loc("model.mlir":5:10)
    %3 = linalg.fill ins(%cst_3 : f32) outs(%2 : tensor<4x32xf32>) -> tensor<4x32xf32> loc("model.mlir":5:10)
    %4 = linalg.matmul ins(%0, %transposed : tensor<4x16xf32>, tensor<16x32xf32>) outs(%3 : tensor<4x32xf32>) -> tensor<4x32xf32> loc("model.mlir":5:10)
    %5 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%4, %cst_2 : tensor<4x32xf32>, tensor<32xf32>) outs(%2 : tensor<4x32xf32>) {
    ^bb0(%in: f32 loc("model.mlir":5:10), %in_11: f32 loc("model.mlir":5:10), %out: f32 loc("model.mlir":5:10)):
      %27 = arith.addf %in, %in_11 : f32 loc("model.mlir":5:10)
      linalg.yield %27 : f32 loc("model.mlir":5:10)
    } -> tensor<4x32xf32> loc("model.mlir":5:10)
    %6 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%5 : tensor<4x32xf32>) outs(%2 : tensor<4x32xf32>) {
    ^bb0(%in: f32 loc("model.mlir":5:10), %out: f32 loc("model.mlir":7:10)):
      %27 = math.fpowi %in, %c3_i64 : f32, i64 loc("model.mlir":7:10)
      %28 = arith.mulf %27, %cst_4 : f32 loc("model.mlir":7:10)
      %29 = arith.addf %in, %28 : f32 loc("model.mlir":7:10)
      %30 = arith.mulf %29, %cst_5 : f32 loc("model.mlir":7:10)
      %31 = math.tanh %30 : f32 loc("model.mlir":7:10)
      %32 = arith.addf %31, %cst_6 : f32 loc("model.mlir":7:10)
      %33 = arith.mulf %32, %cst_7 : f32 loc("model.mlir":7:10)
      %34 = arith.mulf %in, %33 : f32 loc("model.mlir":7:10)
      linalg.yield %34 : f32 loc("model.mlir":7:10)
    } -> tensor<4x32xf32> loc("model.mlir":7:10)
    %7 = tensor.empty() : tensor<32x8xf32> loc("model.mlir":10:10)
    %transposed_10 = linalg.transpose ins(%cst_0 : tensor<8x32xf32>) outs(%7 : tensor<32x8xf32>) permutation = [1, 0]  loc("model.mlir":10:10)
    %8 = tensor.empty() : tensor<4x8xf32> loc("model.mlir":10:10)
    %9 = linalg.fill ins(%cst_3 : f32) outs(%8 : tensor<4x8xf32>) -> tensor<4x8xf32> loc("model.mlir":10:10)
    %10 = linalg.matmul ins(%6, %transposed_10 : tensor<4x32xf32>, tensor<32x8xf32>) outs(%9 : tensor<4x8xf32>) -> tensor<4x8xf32> loc("model.mlir":10:10)
    %11 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%10, %cst : tensor<4x8xf32>, tensor<8xf32>) outs(%8 : tensor<4x8xf32>) {
    ^bb0(%in: f32 loc("model.mlir":10:10), %in_11: f32 loc("model.mlir":10:10), %out: f32 loc("model.mlir":10:10)):
      %27 = arith.addf %in, %in_11 : f32 loc("model.mlir":10:10)
      linalg.yield %27 : f32 loc("model.mlir":10:10)
    } -> tensor<4x8xf32> loc("model.mlir":10:10)
    %12 = tensor.empty() : tensor<4xi64> loc("model.mlir":13:10)
    %13 = linalg.fill ins(%c0_i64 : i64) outs(%12 : tensor<4xi64>) -> tensor<4xi64> loc("model.mlir":13:10)
    %14 = tensor.empty() : tensor<4xf32> loc("model.mlir":13:10)
    %15 = linalg.fill ins(%cst_8 : f32) outs(%14 : tensor<4xf32>) -> tensor<4xf32> loc("model.mlir":13:10)
    %16:2 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%11 : tensor<4x8xf32>) outs(%15, %13 : tensor<4xf32>, tensor<4xi64>) {
    ^bb0(%in: f32 loc("model.mlir":10:10), %out: f32 loc("model.mlir":13:10), %out_11: i64 loc("model.mlir":13:10)):
      %27 = linalg.index 1 : index loc("model.mlir":13:10)
      %28 = arith.index_cast %27 : index to i64 loc("model.mlir":13:10)
      %29 = arith.maximumf %in, %out : f32 loc("model.mlir":13:10)
      %30 = arith.cmpf ogt, %in, %out : f32 loc("model.mlir":13:10)
      %31 = arith.select %30, %28, %out_11 : i64 loc("model.mlir":13:10)
      linalg.yield %29, %31 : f32, i64 loc("model.mlir":13:10)
    } -> (tensor<4xf32>, tensor<4xi64>) loc("model.mlir":13:10)
    %expanded = tensor.expand_shape %16#0 [[0, 1]] output_shape [4, 1] : tensor<4xf32> into tensor<4x1xf32> loc("model.mlir":13:10)
    %17 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, 0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%11, %expanded : tensor<4x8xf32>, tensor<4x1xf32>) outs(%8 : tensor<4x8xf32>) {
    ^bb0(%in: f32 loc("model.mlir":10:10), %in_11: f32 loc("model.mlir":13:10), %out: f32 loc("model.mlir":13:10)):
      %27 = arith.subf %in, %in_11 : f32 loc("model.mlir":13:10)
      linalg.yield %27 : f32 loc("model.mlir":13:10)
    } -> tensor<4x8xf32> loc("model.mlir":13:10)
    %18 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%17 : tensor<4x8xf32>) outs(%8 : tensor<4x8xf32>) {
    ^bb0(%in: f32 loc("model.mlir":13:10), %out: f32 loc("model.mlir":13:10)):
      %27 = math.exp %in : f32 loc("model.mlir":13:10)
      linalg.yield %27 : f32 loc("model.mlir":13:10)
    } -> tensor<4x8xf32> loc("model.mlir":13:10)
    %19 = tensor.empty() : tensor<4x1xf32> loc("model.mlir":13:10)
    %20 = linalg.fill ins(%cst_3 : f32) outs(%19 : tensor<4x1xf32>) -> tensor<4x1xf32> loc("model.mlir":13:10)
    %21 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, 0)>], iterator_types = ["parallel", "reduction"]} ins(%18 : tensor<4x8xf32>) outs(%20 : tensor<4x1xf32>) {
    ^bb0(%in: f32 loc("model.mlir":13:10), %out: f32 loc("model.mlir":13:10)):
      %27 = arith.addf %in, %out : f32 loc("model.mlir":13:10)
      linalg.yield %27 : f32 loc("model.mlir":13:10)
    } -> tensor<4x1xf32> loc("model.mlir":13:10)
    %22 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, 0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%18, %21 : tensor<4x8xf32>, tensor<4x1xf32>) outs(%8 : tensor<4x8xf32>) {
    ^bb0(%in: f32 loc("model.mlir":13:10), %in_11: f32 loc("model.mlir":13:10), %out: f32 loc("model.mlir":13:10)):
      %27 = arith.divf %in, %in_11 : f32 loc("model.mlir":13:10)
      linalg.yield %27 : f32 loc("model.mlir":13:10)
    } -> tensor<4x8xf32> loc("model.mlir":13:10)
    %23 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%11 : tensor<4x8xf32>) outs(%8 : tensor<4x8xf32>) {
    ^bb0(%in: f32 loc("model.mlir":10:10), %out: f32 loc("model.mlir":15:10)):
      %27 = arith.divf %in, %cst_9 : f32 loc("model.mlir":15:10)
      %28 = math.erf %27 : f32 loc("model.mlir":15:10)
      %29 = arith.addf %28, %cst_6 : f32 loc("model.mlir":15:10)
      %30 = arith.mulf %29, %cst_7 : f32 loc("model.mlir":15:10)
      %31 = arith.mulf %in, %30 : f32 loc("model.mlir":15:10)
      linalg.yield %31 : f32 loc("model.mlir":15:10)
    } -> tensor<4x8xf32> loc("model.mlir":15:10)
    %24:2 = hal.tensor.barrier join(%22, %23 : tensor<4x8xf32>, tensor<4x8xf32>) => %arg2 : !hal.fence loc("model.mlir":2:3)
    %25 = hal.tensor.export %24#0 : tensor<4x8xf32> -> !hal.buffer_view loc("model.mlir":2:3)
    %26 = hal.tensor.export %24#1 : tensor<4x8xf32> -> !hal.buffer_view loc("model.mlir":2:3)
    util.return %25, %26 : !hal.buffer_view, !hal.buffer_view loc("model.mlir":16:5)
  } loc("model.mlir":2:3)
