  util.func public @main$async(%arg0: !hal.buffer_view, %arg1: !hal.fence, %arg2: !hal.fence) -> !hal.buffer_view attributes {inlining_policy = #util.inline.never, iree.abi.model = "coarse-fences", iree.abi.stub} {
    %cst = arith.constant 0.000000e+00 : f32 loc("model.mlir":15:10)
    %cst_0 = arith.constant 1.000000e+00 : f32 loc(unknown)
    %cst_1 = arith.constant dense<6.000000e+00> : tensor<f32> loc("model.mlir":68:11)
    %cst_2 = arith.constant dense<0.000000e+00> : tensor<f32> loc("model.mlir":68:11)
    %cst_3 = arith.constant dense_resource<torch_tensor_8_torch.float32> : tensor<8xf32> loc("model.mlir":81:11)
    %cst_4 = arith.constant dense_resource<torch_tensor_8_32_1_1_torch.float32> : tensor<8x32x1x1xf32> loc("model.mlir":81:11)
    %cst_5 = arith.constant dense_resource<torch_tensor_32_torch.float32_4> : tensor<32xf32> loc("model.mlir":61:11)
    %cst_6 = arith.constant dense_resource<torch_tensor_32_torch.float32_3> : tensor<32xf32> loc("model.mlir":55:11)
    %cst_7 = arith.constant 9.99999974E-6 : f32 loc("model.mlir":37:11)
    %cst_8 = arith.constant dense_resource<torch_tensor_32_torch.float32_2> : tensor<32xf32> loc("model.mlir":37:11)
    %cst_9 = arith.constant dense_resource<torch_tensor_32_torch.float32_1> : tensor<32xf32> loc("model.mlir":43:11)
    %cst_10 = arith.constant dense_resource<torch_tensor_32_1_3_3_torch.float32> : tensor<32x1x3x3xf32> loc("model.mlir":28:11)
    %cst_11 = arith.constant dense_resource<torch_tensor_32_8_1_1_torch.float32> : tensor<32x8x1x1xf32> loc("model.mlir":15:10)
    %cst_12 = arith.constant dense_resource<torch_tensor_32_torch.float32> : tensor<32xf32> loc("model.mlir":15:10)
    %0 = hal.tensor.import wait(%arg1) => %arg0 : !hal.buffer_view -> tensor<1x8x12x12xf32> loc("model.mlir":2:19)
    %1 = tensor.empty() : tensor<1x32x12x12xf32> loc("model.mlir":15:10)
    %broadcasted = linalg.broadcast ins(%cst_12 : tensor<32xf32>) outs(%1 : tensor<1x32x12x12xf32>) dimensions = [0, 2, 3]  loc("model.mlir":15:10)
    %2 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%0, %cst_11 : tensor<1x8x12x12xf32>, tensor<32x8x1x1xf32>) outs(%broadcasted : tensor<1x32x12x12xf32>) -> tensor<1x32x12x12xf32> loc("model.mlir":15:10)
    %padded = tensor.pad %2 low[0, 0, 1, 1] high[0, 0, 1, 1] {
    ^bb0(%arg3: index loc("model.mlir":28:11), %arg4: index loc("model.mlir":28:11), %arg5: index loc("model.mlir":28:11), %arg6: index loc("model.mlir":28:11)):
      tensor.yield %cst : f32 loc("model.mlir":28:11)
    } : tensor<1x32x12x12xf32> to tensor<1x32x14x14xf32> loc("model.mlir":28:11)
    %3 = linalg.fill ins(%cst : f32) outs(%1 : tensor<1x32x12x12xf32>) -> tensor<1x32x12x12xf32> loc("model.mlir":28:11)
    %collapsed = tensor.collapse_shape %cst_10 [[0, 1], [2], [3]] : tensor<32x1x3x3xf32> into tensor<32x3x3xf32> loc("model.mlir":28:11)
    %4 = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%padded, %collapsed : tensor<1x32x14x14xf32>, tensor<32x3x3xf32>) outs(%3 : tensor<1x32x12x12xf32>) -> tensor<1x32x12x12xf32> loc("model.mlir":28:11)
    %5 = tensor.empty() : tensor<32xf32> loc("model.mlir":37:11)
    %6 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%cst_8 : tensor<32xf32>) outs(%5 : tensor<32xf32>) {
    ^bb0(%in: f32 loc("model.mlir":37:11), %out: f32 loc("model.mlir":37:11)):
      %19 = arith.addf %in, %cst_7 : f32 loc("model.mlir":37:11)
      linalg.yield %19 : f32 loc("model.mlir":37:11)
    } -> tensor<32xf32> loc("model.mlir":37:11)
    %7 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%6 : tensor<32xf32>) outs(%5 : tensor<32xf32>) {
    ^bb0(%in: f32 loc("model.mlir":37:11), %out: f32 loc("model.mlir":38:11)):
      %19 = math.sqrt %in : f32 loc("model.mlir":38:11)
      linalg.yield %19 : f32 loc("model.mlir":38:11)
    } -> tensor<32xf32> loc("model.mlir":38:11)
    %8 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%7 : tensor<32xf32>) outs(%5 : tensor<32xf32>) {
    ^bb0(%in: f32 loc("model.mlir":38:11), %out: f32 loc("model.mlir":39:11)):
      %19 = arith.cmpf one, %in, %cst : f32 loc("model.mlir":39:11)
      cf.assert %19, "unimplemented: tensor with zero element" loc("model.mlir":39:11)
      %20 = arith.divf %cst_0, %in : f32 loc("model.mlir":39:11)
      linalg.yield %20 : f32 loc("model.mlir":39:11)
    } -> tensor<32xf32> loc("model.mlir":39:11)
    %expanded = tensor.expand_shape %cst_9 [[0, 1, 2]] output_shape [32, 1, 1] : tensor<32xf32> into tensor<32x1x1xf32> loc("model.mlir":45:11)
    %expanded_13 = tensor.expand_shape %8 [[0, 1, 2]] output_shape [32, 1, 1] : tensor<32xf32> into tensor<32x1x1xf32> loc("model.mlir":49:11)
    %9 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%4, %expanded : tensor<1x32x12x12xf32>, tensor<32x1x1xf32>) outs(%1 : tensor<1x32x12x12xf32>) {
    ^bb0(%in: f32 loc("model.mlir":28:11), %in_17: f32 loc("model.mlir":45:11), %out: f32 loc("model.mlir":51:11)):
      %19 = arith.subf %in, %in_17 : f32 loc("model.mlir":51:11)
      linalg.yield %19 : f32 loc("model.mlir":51:11)
    } -> tensor<1x32x12x12xf32> loc("model.mlir":51:11)
    %10 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%9, %expanded_13 : tensor<1x32x12x12xf32>, tensor<32x1x1xf32>) outs(%1 : tensor<1x32x12x12xf32>) {
    ^bb0(%in: f32 loc("model.mlir":51:11), %in_17: f32 loc("model.mlir":49:11), %out: f32 loc("model.mlir":52:11)):
      %19 = arith.mulf %in, %in_17 : f32 loc("model.mlir":52:11)
      linalg.yield %19 : f32 loc("model.mlir":52:11)
    } -> tensor<1x32x12x12xf32> loc("model.mlir":52:11)
    %expanded_14 = tensor.expand_shape %cst_6 [[0, 1, 2]] output_shape [32, 1, 1] : tensor<32xf32> into tensor<32x1x1xf32> loc("model.mlir":57:11)
    %11 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%10, %expanded_14 : tensor<1x32x12x12xf32>, tensor<32x1x1xf32>) outs(%1 : tensor<1x32x12x12xf32>) {
    ^bb0(%in: f32 loc("model.mlir":52:11), %in_17: f32 loc("model.mlir":57:11), %out: f32 loc("model.mlir":58:11)):
      %19 = arith.mulf %in, %in_17 : f32 loc("model.mlir":58:11)
      linalg.yield %19 : f32 loc("model.mlir":58:11)
    } -> tensor<1x32x12x12xf32> loc("model.mlir":58:11)
    %expanded_15 = tensor.expand_shape %cst_5 [[0, 1, 2]] output_shape [32, 1, 1] : tensor<32xf32> into tensor<32x1x1xf32> loc("model.mlir":63:11)
    %12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%11, %expanded_15 : tensor<1x32x12x12xf32>, tensor<32x1x1xf32>) outs(%1 : tensor<1x32x12x12xf32>) {
    ^bb0(%in: f32 loc("model.mlir":58:11), %in_17: f32 loc("model.mlir":63:11), %out: f32 loc("model.mlir":65:11)):
      %19 = arith.addf %in, %in_17 : f32 loc("model.mlir":65:11)
      linalg.yield %19 : f32 loc("model.mlir":65:11)
    } -> tensor<1x32x12x12xf32> loc("model.mlir":65:11)
    %13 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> ()>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%12, %cst_2 : tensor<1x32x12x12xf32>, tensor<f32>) outs(%1 : tensor<1x32x12x12xf32>) {
    ^bb0(%in: f32 loc("model.mlir":65:11), %in_17: f32 loc("model.mlir":68:11), %out: f32 loc("model.mlir":68:11)):
      %19 = arith.cmpf ogt, %in, %in_17 : f32 loc("model.mlir":68:11)
      %20 = arith.select %19, %in, %in_17 : f32 loc("model.mlir":68:11)
      linalg.yield %20 : f32 loc("model.mlir":68:11)
    } -> tensor<1x32x12x12xf32> loc("model.mlir":68:11)
    %14 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> ()>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%cst_1, %13 : tensor<f32>, tensor<1x32x12x12xf32>) outs(%1 : tensor<1x32x12x12xf32>) {
    ^bb0(%in: f32 loc("model.mlir":68:11), %in_17: f32 loc("model.mlir":68:11), %out: f32 loc("model.mlir":68:11)):
      %19 = arith.cmpf olt, %in, %in_17 : f32 loc("model.mlir":68:11)
      %20 = arith.select %19, %in, %in_17 : f32 loc("model.mlir":68:11)
      linalg.yield %20 : f32 loc("model.mlir":68:11)
    } -> tensor<1x32x12x12xf32> loc("model.mlir":68:11)
    %15 = tensor.empty() : tensor<1x8x12x12xf32> loc("model.mlir":81:11)
    %broadcasted_16 = linalg.broadcast ins(%cst_3 : tensor<8xf32>) outs(%15 : tensor<1x8x12x12xf32>) dimensions = [0, 2, 3]  loc("model.mlir":81:11)
    %16 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%14, %cst_4 : tensor<1x32x12x12xf32>, tensor<8x32x1x1xf32>) outs(%broadcasted_16 : tensor<1x8x12x12xf32>) -> tensor<1x8x12x12xf32> loc("model.mlir":81:11)
    %17 = hal.tensor.barrier join(%16 : tensor<1x8x12x12xf32>) => %arg2 : !hal.fence loc("model.mlir":2:3)
    %18 = hal.tensor.export %17 : tensor<1x8x12x12xf32> -> !hal.buffer_view loc("model.mlir":2:3)
    util.return %18 : !hal.buffer_view loc("model.mlir":82:5)
  } loc("model.mlir":2:3)
