  util.func public @main$async(%arg0: !hal.buffer_view, %arg1: !hal.fence, %arg2: !hal.fence) -> !hal.buffer_view attributes {inlining_policy = #util.inline.never, iree.abi.model = "coarse-fences", iree.abi.stub} {
    %cst = arith.constant 0.000000e+00 : f32 loc("exp/model.mlir":5:10)
    %cst_0 = arith.constant dense<6.000000e+00> : tensor<f32> loc("exp/model.mlir":6:10)
    %cst_1 = arith.constant dense_resource<torch_tensor_16_16_torch.float32> : tensor<16x16xf32> loc("exp/model.mlir":5:10)
    %cst_2 = arith.constant dense_resource<torch_tensor_16_torch.float32> : tensor<16xf32> loc("exp/model.mlir":5:10)
    %cst_3 = arith.constant 3.000000e+00 : f32 loc(unknown)
    %cst_4 = arith.constant 6.000000e+00 : f32 loc(unknown)
    %0 = hal.tensor.import wait(%arg1) => %arg0 : !hal.buffer_view -> tensor<4x16xf32> loc("exp/model.mlir":2:19)
    %1 = tensor.empty() : tensor<16x16xf32> loc("exp/model.mlir":5:10)
    %transposed = linalg.transpose ins(%cst_1 : tensor<16x16xf32>) outs(%1 : tensor<16x16xf32>) permutation = [1, 0]  loc("exp/model.mlir":5:10)
    %2 = tensor.empty() : tensor<4x16xf32> loc("exp/model.mlir":5:10)
    %3 = linalg.fill ins(%cst : f32) outs(%2 : tensor<4x16xf32>) -> tensor<4x16xf32> loc("exp/model.mlir":5:10)
    %4 = linalg.matmul ins(%0, %transposed : tensor<4x16xf32>, tensor<16x16xf32>) outs(%3 : tensor<4x16xf32>) -> tensor<4x16xf32> loc("exp/model.mlir":5:10)
    %5 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%4, %cst_2 : tensor<4x16xf32>, tensor<16xf32>) outs(%2 : tensor<4x16xf32>) {
    ^bb0(%in: f32 loc("exp/model.mlir":5:10), %in_5: f32 loc("exp/model.mlir":5:10), %out: f32 loc("exp/model.mlir":5:10)):
      %13 = arith.addf %in, %in_5 : f32 loc("exp/model.mlir":5:10)
      linalg.yield %13 : f32 loc("exp/model.mlir":5:10)
    } -> tensor<4x16xf32> loc("exp/model.mlir":5:10)
    %6 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%5 : tensor<4x16xf32>) outs(%2 : tensor<4x16xf32>) {
    ^bb0(%in: f32 loc("exp/model.mlir":5:10), %out: f32 loc("exp/model.mlir":6:10)):
      %13 = arith.addf %in, %cst_3 : f32 loc("exp/model.mlir":6:10)
      linalg.yield %13 : f32 loc("exp/model.mlir":6:10)
    } -> tensor<4x16xf32> loc("exp/model.mlir":6:10)
    %7 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%6 : tensor<4x16xf32>) outs(%2 : tensor<4x16xf32>) {
    ^bb0(%in: f32 loc("exp/model.mlir":6:10), %out: f32 loc("exp/model.mlir":6:10)):
      %13 = arith.cmpf ugt, %in, %cst : f32 loc("exp/model.mlir":6:10)
      %14 = arith.select %13, %in, %cst : f32 loc("exp/model.mlir":6:10)
      linalg.yield %14 : f32 loc("exp/model.mlir":6:10)
    } -> tensor<4x16xf32> loc("exp/model.mlir":6:10)
    %8 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> ()>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%7, %cst_0 : tensor<4x16xf32>, tensor<f32>) outs(%2 : tensor<4x16xf32>) {
    ^bb0(%in: f32 loc("exp/model.mlir":6:10), %in_5: f32 loc("exp/model.mlir":6:10), %out: f32 loc("exp/model.mlir":6:10)):
      %13 = arith.cmpf olt, %in, %in_5 : f32 loc("exp/model.mlir":6:10)
      %14 = arith.select %13, %in, %in_5 : f32 loc("exp/model.mlir":6:10)
      linalg.yield %14 : f32 loc("exp/model.mlir":6:10)
    } -> tensor<4x16xf32> loc("exp/model.mlir":6:10)
    %9 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%8 : tensor<4x16xf32>) outs(%2 : tensor<4x16xf32>) {
    ^bb0(%in: f32 loc("exp/model.mlir":6:10), %out: f32 loc("exp/model.mlir":6:10)):
      %13 = arith.divf %in, %cst_4 : f32 loc("exp/model.mlir":6:10)
      linalg.yield %13 : f32 loc("exp/model.mlir":6:10)
    } -> tensor<4x16xf32> loc("exp/model.mlir":6:10)
    %10 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%9, %5 : tensor<4x16xf32>, tensor<4x16xf32>) outs(%2 : tensor<4x16xf32>) {
    ^bb0(%in: f32 loc("exp/model.mlir":6:10), %in_5: f32 loc("exp/model.mlir":5:10), %out: f32 loc("exp/model.mlir":6:10)):
      %13 = arith.mulf %in, %in_5 : f32 loc("exp/model.mlir":6:10)
      linalg.yield %13 : f32 loc("exp/model.mlir":6:10)
    } -> tensor<4x16xf32> loc("exp/model.mlir":6:10)
    %11 = hal.tensor.barrier join(%10 : tensor<4x16xf32>) => %arg2 : !hal.fence loc("exp/model.mlir":2:3)
    %12 = hal.tensor.export %11 : tensor<4x16xf32> -> !hal.buffer_view loc("exp/model.mlir":2:3)
    util.return %12 : !hal.buffer_view loc("exp/model.mlir":7:5)
  } loc("exp/model.mlir":2:3)
