  util.func public @main$async(%arg0: !hal.buffer_view, %arg1: !hal.fence, %arg2: !hal.fence) -> !hal.buffer_view attributes {inlining_policy = #util.inline.never, iree.abi.model = "coarse-fences", iree.abi.stub} {
    %c0 = arith.constant 0 : index loc(unknown)
    %cst = arith.constant 0.000000e+00 : f32 loc("model.mlir":15:10)
    %cst_0 = arith.constant 1.000000e+00 : f32 loc(unknown)
    %cst_1 = arith.constant dense_resource<torch_tensor_32_8_1_1_torch.float32> : tensor<32x8x1x1xf32> loc("model.mlir":15:10)
    %cst_2 = arith.constant dense_resource<torch_tensor_32_torch.float32> : tensor<32xf32> loc("model.mlir":15:10)
    %c12 = arith.constant 12 : index loc(unknown)
    %cst_3 = arith.constant 1.440000e+02 : f32 loc(unknown)
    %0 = hal.tensor.import wait(%arg1) => %arg0 : !hal.buffer_view -> tensor<1x8x12x12xf32> loc("model.mlir":2:19)
    %1 = tensor.empty() : tensor<1x32x12x12xf32> loc("model.mlir":15:10)
    %broadcasted = linalg.broadcast ins(%cst_2 : tensor<32xf32>) outs(%1 : tensor<1x32x12x12xf32>) dimensions = [0, 2, 3]  loc("model.mlir":15:10)
    %2 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%0, %cst_1 : tensor<1x8x12x12xf32>, tensor<32x8x1x1xf32>) outs(%broadcasted : tensor<1x32x12x12xf32>) -> tensor<1x32x12x12xf32> loc("model.mlir":15:10)
    %3 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%2 : tensor<1x32x12x12xf32>) outs(%1 : tensor<1x32x12x12xf32>) {
    ^bb0(%in: f32 loc("model.mlir":15:10), %out: f32 loc("model.mlir":16:10)):
      %14 = arith.cmpf ugt, %in, %cst : f32 loc("model.mlir":16:10)
      %15 = arith.select %14, %in, %cst : f32 loc("model.mlir":16:10)
      linalg.yield %15 : f32 loc("model.mlir":16:10)
    } -> tensor<1x32x12x12xf32> loc("model.mlir":16:10)
    %4 = tensor.empty() : tensor<12x12xi1> loc("model.mlir":20:10)
    %5 = tensor.empty() : tensor<1x1xf32> loc("model.mlir":20:10)
    %6 = tensor.empty() : tensor<1x32x1x1xf32> loc("model.mlir":20:10)
    %7 = linalg.fill ins(%cst : f32) outs(%6 : tensor<1x32x1x1xf32>) -> tensor<1x32x1x1xf32> loc("model.mlir":20:10)
    %padded = tensor.pad %3 low[0, 0, 0, 0] high[0, 0, 1, 1] {
    ^bb0(%arg3: index loc("model.mlir":20:10), %arg4: index loc("model.mlir":20:10), %arg5: index loc("model.mlir":20:10), %arg6: index loc("model.mlir":20:10)):
      tensor.yield %cst : f32 loc("model.mlir":20:10)
    } : tensor<1x32x12x12xf32> to tensor<1x32x13x13xf32> loc("model.mlir":20:10)
    %8:2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5) -> (d4, d5)>, affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3, d4, d5) -> (d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%4 : tensor<12x12xi1>) outs(%7, %5 : tensor<1x32x1x1xf32>, tensor<1x1xf32>) {
    ^bb0(%in: i1 loc("model.mlir":20:10), %out: f32 loc("model.mlir":20:10), %out_4: f32 loc("model.mlir":20:10)):
      %14 = linalg.index 1 : index loc("model.mlir":20:10)
      %15 = linalg.index 4 : index loc("model.mlir":20:10)
      %16 = linalg.index 5 : index loc("model.mlir":20:10)
      %extracted = tensor.extract %padded[%c0, %14, %15, %16] : tensor<1x32x13x13xf32> loc("model.mlir":20:10)
      %17 = arith.cmpi ult, %15, %c12 : index loc("model.mlir":20:10)
      %18 = arith.select %17, %extracted, %cst : f32 loc("model.mlir":20:10)
      %19 = arith.cmpi ult, %16, %c12 : index loc("model.mlir":20:10)
      %20 = arith.select %19, %18, %cst : f32 loc("model.mlir":20:10)
      %21 = arith.addf %20, %out : f32 loc("model.mlir":20:10)
      linalg.yield %21, %cst_3 : f32, f32 loc("model.mlir":20:10)
    } -> (tensor<1x32x1x1xf32>, tensor<1x1xf32>) loc("model.mlir":20:10)
    %9 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%8#1 : tensor<1x1xf32>) outs(%8#0 : tensor<1x32x1x1xf32>) {
    ^bb0(%in: f32 loc("model.mlir":20:10), %out: f32 loc("model.mlir":20:10)):
      %14 = arith.divf %out, %in : f32 loc("model.mlir":20:10)
      linalg.yield %14 : f32 loc("model.mlir":20:10)
    } -> tensor<1x32x1x1xf32> loc("model.mlir":20:10)
    %10 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%9 : tensor<1x32x1x1xf32>) outs(%6 : tensor<1x32x1x1xf32>) {
    ^bb0(%in: f32 loc("model.mlir":20:10), %out: f32 loc("model.mlir":21:10)):
      %14 = arith.negf %in : f32 loc("model.mlir":21:10)
      %15 = math.exp %14 : f32 loc("model.mlir":21:10)
      %16 = arith.addf %15, %cst_0 : f32 loc("model.mlir":21:10)
      %17 = arith.divf %cst_0, %16 : f32 loc("model.mlir":21:10)
      linalg.yield %17 : f32 loc("model.mlir":21:10)
    } -> tensor<1x32x1x1xf32> loc("model.mlir":21:10)
    %11 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%3, %10 : tensor<1x32x12x12xf32>, tensor<1x32x1x1xf32>) outs(%1 : tensor<1x32x12x12xf32>) {
    ^bb0(%in: f32 loc("model.mlir":16:10), %in_4: f32 loc("model.mlir":21:10), %out: f32 loc("model.mlir":22:11)):
      %14 = arith.mulf %in, %in_4 : f32 loc("model.mlir":22:11)
      linalg.yield %14 : f32 loc("model.mlir":22:11)
    } -> tensor<1x32x12x12xf32> loc("model.mlir":22:11)
    %12 = hal.tensor.barrier join(%11 : tensor<1x32x12x12xf32>) => %arg2 : !hal.fence loc("model.mlir":2:3)
    %13 = hal.tensor.export %12 : tensor<1x32x12x12xf32> -> !hal.buffer_view loc("model.mlir":2:3)
    util.return %13 : !hal.buffer_view loc("model.mlir":23:5)
  } loc("model.mlir":2:3)
