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
    %2 = tensor.empty() : tensor<1x12x12x8xf32> loc("model.mlir":15:10)
    %transposed = linalg.transpose ins(%0 : tensor<1x8x12x12xf32>) outs(%2 : tensor<1x12x12x8xf32>) permutation = [0, 2, 3, 1]  loc("model.mlir":15:10)
    %3 = tensor.empty() : tensor<1x1x8x32xf32> loc("model.mlir":15:10)
    %transposed_13 = linalg.transpose ins(%cst_11 : tensor<32x8x1x1xf32>) outs(%3 : tensor<1x1x8x32xf32>) permutation = [2, 3, 1, 0]  loc("model.mlir":15:10)
    %4 = tensor.empty() : tensor<1x12x12x32xf32> loc("model.mlir":15:10)
    %transposed_14 = linalg.transpose ins(%broadcasted : tensor<1x32x12x12xf32>) outs(%4 : tensor<1x12x12x32xf32>) permutation = [0, 2, 3, 1]  loc("model.mlir":15:10)
    %5 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%transposed, %transposed_13 : tensor<1x12x12x8xf32>, tensor<1x1x8x32xf32>) outs(%transposed_14 : tensor<1x12x12x32xf32>) -> tensor<1x12x12x32xf32> loc("model.mlir":15:10)
    %expanded = tensor.expand_shape %5 [[0], [1, 2], [3], [4]] output_shape [1, 1, 12, 12, 32] : tensor<1x12x12x32xf32> into tensor<1x1x12x12x32xf32> loc("model.mlir":15:10)
    %padded = tensor.pad %expanded low[0, 0, 1, 1, 0] high[0, 0, 1, 1, 0] {
    ^bb0(%arg3: index loc("model.mlir":28:11), %arg4: index loc("model.mlir":28:11), %arg5: index loc("model.mlir":28:11), %arg6: index loc("model.mlir":28:11), %arg7: index loc("model.mlir":28:11)):
      tensor.yield %cst : f32 loc("model.mlir":28:11)
    } : tensor<1x1x12x12x32xf32> to tensor<1x1x14x14x32xf32> loc("model.mlir":28:11)
    %6 = tensor.empty() : tensor<1x32x14x14xf32> loc("model.mlir":28:11)
    %collapsed = tensor.collapse_shape %padded [[0], [1, 2], [3], [4]] : tensor<1x1x14x14x32xf32> into tensor<1x14x14x32xf32> loc("model.mlir":28:11)
    %transposed_15 = linalg.transpose ins(%collapsed : tensor<1x14x14x32xf32>) outs(%6 : tensor<1x32x14x14xf32>) permutation = [0, 3, 1, 2]  loc("model.mlir":28:11)
    %7 = linalg.fill ins(%cst : f32) outs(%1 : tensor<1x32x12x12xf32>) -> tensor<1x32x12x12xf32> loc("model.mlir":28:11)
    %collapsed_16 = tensor.collapse_shape %cst_10 [[0, 1], [2], [3]] : tensor<32x1x3x3xf32> into tensor<32x3x3xf32> loc("model.mlir":28:11)
    %8 = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%transposed_15, %collapsed_16 : tensor<1x32x14x14xf32>, tensor<32x3x3xf32>) outs(%7 : tensor<1x32x12x12xf32>) -> tensor<1x32x12x12xf32> loc("model.mlir":28:11)
    %9 = tensor.empty() : tensor<32xf32> loc("model.mlir":37:11)
    %10 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%cst_8 : tensor<32xf32>) outs(%9 : tensor<32xf32>) {
    ^bb0(%in: f32 loc("model.mlir":37:11), %out: f32 loc("model.mlir":37:11)):
      %28 = arith.addf %in, %cst_7 : f32 loc("model.mlir":37:11)
      linalg.yield %28 : f32 loc("model.mlir":37:11)
    } -> tensor<32xf32> loc("model.mlir":37:11)
    %11 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%10 : tensor<32xf32>) outs(%9 : tensor<32xf32>) {
    ^bb0(%in: f32 loc("model.mlir":37:11), %out: f32 loc("model.mlir":38:11)):
      %28 = math.sqrt %in : f32 loc("model.mlir":38:11)
      linalg.yield %28 : f32 loc("model.mlir":38:11)
    } -> tensor<32xf32> loc("model.mlir":38:11)
    %12 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%11 : tensor<32xf32>) outs(%9 : tensor<32xf32>) {
    ^bb0(%in: f32 loc("model.mlir":38:11), %out: f32 loc("model.mlir":39:11)):
      %28 = arith.cmpf one, %in, %cst : f32 loc("model.mlir":39:11)
      cf.assert %28, "unimplemented: tensor with zero element" loc("model.mlir":39:11)
      %29 = arith.divf %cst_0, %in : f32 loc("model.mlir":39:11)
      linalg.yield %29 : f32 loc("model.mlir":39:11)
    } -> tensor<32xf32> loc("model.mlir":39:11)
    %expanded_17 = tensor.expand_shape %cst_9 [[0, 1, 2]] output_shape [32, 1, 1] : tensor<32xf32> into tensor<32x1x1xf32> loc("model.mlir":45:11)
    %expanded_18 = tensor.expand_shape %12 [[0, 1, 2]] output_shape [32, 1, 1] : tensor<32xf32> into tensor<32x1x1xf32> loc("model.mlir":49:11)
    %13 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%8, %expanded_17 : tensor<1x32x12x12xf32>, tensor<32x1x1xf32>) outs(%1 : tensor<1x32x12x12xf32>) {
    ^bb0(%in: f32 loc("model.mlir":28:11), %in_28: f32 loc("model.mlir":45:11), %out: f32 loc("model.mlir":51:11)):
      %28 = arith.subf %in, %in_28 : f32 loc("model.mlir":51:11)
      linalg.yield %28 : f32 loc("model.mlir":51:11)
    } -> tensor<1x32x12x12xf32> loc("model.mlir":51:11)
    %14 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%13, %expanded_18 : tensor<1x32x12x12xf32>, tensor<32x1x1xf32>) outs(%1 : tensor<1x32x12x12xf32>) {
    ^bb0(%in: f32 loc("model.mlir":51:11), %in_28: f32 loc("model.mlir":49:11), %out: f32 loc("model.mlir":52:11)):
      %28 = arith.mulf %in, %in_28 : f32 loc("model.mlir":52:11)
      linalg.yield %28 : f32 loc("model.mlir":52:11)
    } -> tensor<1x32x12x12xf32> loc("model.mlir":52:11)
    %expanded_19 = tensor.expand_shape %cst_6 [[0, 1, 2]] output_shape [32, 1, 1] : tensor<32xf32> into tensor<32x1x1xf32> loc("model.mlir":57:11)
    %15 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%14, %expanded_19 : tensor<1x32x12x12xf32>, tensor<32x1x1xf32>) outs(%1 : tensor<1x32x12x12xf32>) {
    ^bb0(%in: f32 loc("model.mlir":52:11), %in_28: f32 loc("model.mlir":57:11), %out: f32 loc("model.mlir":58:11)):
      %28 = arith.mulf %in, %in_28 : f32 loc("model.mlir":58:11)
      linalg.yield %28 : f32 loc("model.mlir":58:11)
    } -> tensor<1x32x12x12xf32> loc("model.mlir":58:11)
    %expanded_20 = tensor.expand_shape %cst_5 [[0, 1, 2]] output_shape [32, 1, 1] : tensor<32xf32> into tensor<32x1x1xf32> loc("model.mlir":63:11)
    %16 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%15, %expanded_20 : tensor<1x32x12x12xf32>, tensor<32x1x1xf32>) outs(%1 : tensor<1x32x12x12xf32>) {
    ^bb0(%in: f32 loc("model.mlir":58:11), %in_28: f32 loc("model.mlir":63:11), %out: f32 loc("model.mlir":65:11)):
      %28 = arith.addf %in, %in_28 : f32 loc("model.mlir":65:11)
      linalg.yield %28 : f32 loc("model.mlir":65:11)
    } -> tensor<1x32x12x12xf32> loc("model.mlir":65:11)
    %17 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> ()>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%16, %cst_2 : tensor<1x32x12x12xf32>, tensor<f32>) outs(%1 : tensor<1x32x12x12xf32>) {
    ^bb0(%in: f32 loc("model.mlir":65:11), %in_28: f32 loc("model.mlir":68:11), %out: f32 loc("model.mlir":68:11)):
      %28 = arith.cmpf ogt, %in, %in_28 : f32 loc("model.mlir":68:11)
      %29 = arith.select %28, %in, %in_28 : f32 loc("model.mlir":68:11)
      linalg.yield %29 : f32 loc("model.mlir":68:11)
    } -> tensor<1x32x12x12xf32> loc("model.mlir":68:11)
    %18 = tensor.empty() : tensor<1x1x12x12x32xf32> loc("model.mlir":68:11)
    %19 = tensor.empty() : tensor<1x12x12x32xf32> loc("model.mlir":68:11)
    %transposed_21 = linalg.transpose ins(%17 : tensor<1x32x12x12xf32>) outs(%19 : tensor<1x12x12x32xf32>) permutation = [0, 2, 3, 1]  loc("model.mlir":68:11)
    %expanded_22 = tensor.expand_shape %transposed_21 [[0], [1, 2], [3], [4]] output_shape [1, 1, 12, 12, 32] : tensor<1x12x12x32xf32> into tensor<1x1x12x12x32xf32> loc("model.mlir":68:11)
    %20 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> ()>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%cst_1, %expanded_22 : tensor<f32>, tensor<1x1x12x12x32xf32>) outs(%18 : tensor<1x1x12x12x32xf32>) {
    ^bb0(%in: f32 loc("model.mlir":68:11), %in_28: f32 loc("model.mlir":68:11), %out: f32 loc("model.mlir":68:11)):
      %28 = arith.cmpf olt, %in, %in_28 : f32 loc("model.mlir":68:11)
      %29 = arith.select %28, %in, %in_28 : f32 loc("model.mlir":68:11)
      linalg.yield %29 : f32 loc("model.mlir":68:11)
    } -> tensor<1x1x12x12x32xf32> loc("model.mlir":68:11)
    %21 = tensor.empty() : tensor<1x8x12x12xf32> loc("model.mlir":81:11)
    %broadcasted_23 = linalg.broadcast ins(%cst_3 : tensor<8xf32>) outs(%21 : tensor<1x8x12x12xf32>) dimensions = [0, 2, 3]  loc("model.mlir":81:11)
    %collapsed_24 = tensor.collapse_shape %20 [[0], [1, 2], [3], [4]] : tensor<1x1x12x12x32xf32> into tensor<1x12x12x32xf32> loc("model.mlir":81:11)
    %22 = tensor.empty() : tensor<1x1x32x8xf32> loc("model.mlir":81:11)
    %transposed_25 = linalg.transpose ins(%cst_4 : tensor<8x32x1x1xf32>) outs(%22 : tensor<1x1x32x8xf32>) permutation = [2, 3, 1, 0]  loc("model.mlir":81:11)
    %23 = tensor.empty() : tensor<1x12x12x8xf32> loc("model.mlir":81:11)
    %transposed_26 = linalg.transpose ins(%broadcasted_23 : tensor<1x8x12x12xf32>) outs(%23 : tensor<1x12x12x8xf32>) permutation = [0, 2, 3, 1]  loc("model.mlir":81:11)
    %24 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%collapsed_24, %transposed_25 : tensor<1x12x12x32xf32>, tensor<1x1x32x8xf32>) outs(%transposed_26 : tensor<1x12x12x8xf32>) -> tensor<1x12x12x8xf32> loc("model.mlir":81:11)
    %25 = tensor.empty() : tensor<1x8x12x12xf32> loc("model.mlir":81:11)
    %transposed_27 = linalg.transpose ins(%24 : tensor<1x12x12x8xf32>) outs(%25 : tensor<1x8x12x12xf32>) permutation = [0, 3, 1, 2]  loc("model.mlir":81:11)
    %26 = hal.tensor.barrier join(%transposed_27 : tensor<1x8x12x12xf32>) => %arg2 : !hal.fence loc("model.mlir":2:3)
    %27 = hal.tensor.export %26 : tensor<1x8x12x12xf32> -> !hal.buffer_view loc("model.mlir":2:3)
    util.return %27 : !hal.buffer_view loc("model.mlir":82:5)
  } loc("model.mlir":2:3)
