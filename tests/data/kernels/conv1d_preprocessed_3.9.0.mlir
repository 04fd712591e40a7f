  util.func public @main$async(%arg0: !hal.buffer_view, %arg1: !hal.fence, %arg2: !hal.fence) -> !hal.buffer_view attributes {inlining_policy = #util.inline.never, iree.abi.model = "coarse-fences"} {
    %cst = arith.constant dense_resource<torch_tensor_8_torch.float32> : tensor<8xf32> loc("exp/model.mlir":3:10)
    %cst_0 = arith.constant 0.000000e+00 : f32 loc("exp/model.mlir":3:10)
    %cst_1 = arith.constant 5.000000e-01 : f32 loc(unknown)
    %0 = hal.tensor.import wait(%arg1) => %arg0 : !hal.buffer_view -> tensor<1x4x16xf32> loc("exp/model.mlir":2:19)
    %__auto.w = util.global.load @__auto.w : tensor<8x4x3xf32> loc("exp/model.mlir":3:10)
    %padded = tensor.pad %0 low[0, 0, 1] high[0, 0, 1] {
    ^bb0(%arg3: index loc("exp/model.mlir":3:10), %arg4: index loc("exp/model.mlir":3:10), %arg5: index loc("exp/model.mlir":3:10)):
      tensor.yield %cst_0 : f32 loc("exp/model.mlir":3:10)
    } : tensor<1x4x16xf32> to tensor<1x4x18xf32> loc("exp/model.mlir":3:10)
    %1 = tensor.empty() : tensor<1x8x16xf32> loc("exp/model.mlir":3:10)
    %broadcasted = linalg.broadcast ins(%cst : tensor<8xf32>) outs(%1 : tensor<1x8x16xf32>) dimensions = [0, 2]  loc("exp/model.mlir":3:10)
    %2 = linalg.conv_1d_ncw_fcw {dilations = dense<1> : vector<1xi64>, strides = dense<1> : vector<1xi64>} ins(%padded, %__auto.w : tensor<1x4x18xf32>, tensor<8x4x3xf32>) outs(%broadcasted : tensor<1x8x16xf32>) -> tensor<1x8x16xf32> loc("exp/model.mlir":3:10)
    %3 = linalg.fill ins(%cst_0 : f32) outs(%1 : tensor<1x8x16xf32>) -> tensor<1x8x16xf32> loc("exp/model.mlir":4:10)
    %4 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%2, %3 : tensor<1x8x16xf32>, tensor<1x8x16xf32>) outs(%1 : tensor<1x8x16xf32>) {
    ^bb0(%in: f32 loc("exp/model.mlir":4:10), %in_2: f32 loc("exp/model.mlir":4:10), %out: f32 loc("exp/model.mlir":4:10)):
      %7 = arith.mulf %in, %cst_1 : f32 loc("exp/model.mlir":4:10)
      %8 = arith.addf %7, %in_2 : f32 loc("exp/model.mlir":4:10)
      linalg.yield %8 : f32 loc("exp/model.mlir":4:10)
    } -> tensor<1x8x16xf32> loc("exp/model.mlir":4:10)
    %5 = hal.tensor.barrier join(%4 : tensor<1x8x16xf32>) => %arg2 : !hal.fence loc("exp/model.mlir":2:3)
    %6 = hal.tensor.export %5 : tensor<1x8x16xf32> -> !hal.buffer_view loc("exp/model.mlir":2:3)
    util.return %6 : !hal.buffer_view loc("exp/model.mlir":5:5)
  } loc("exp/model.mlir":2:3)
  util.func public @main(%arg0: !hal.buffer_view) -> !hal.buffer_view attributes {iree.abi.stub} {
    %0 = util.null : !hal.fence loc("exp/model.mlir":2:3)
    %c-1_i32 = arith.constant -1 : i32 loc("exp/model.mlir":2:3)
    %c0 = arith.constant 0 : index loc("exp/model.mlir":2:3)
    %device_0 = hal.devices.get %c0 : !hal.device loc("exp/model.mlir":2:3)
    %fence = hal.fence.create device(%device_0 : !hal.device) flags("None") : !hal.fence loc("exp/model.mlir":2:3)
    %1 = util.call @main$async(%arg0, %0, %fence) : (!hal.buffer_view, !hal.fence, !hal.fence) -> !hal.buffer_view loc("exp/model.mlir":2:3)
    util.return %1 : !hal.buffer_view loc("exp/model.mlir":2:3)
  } loc("exp/model.mlir":2:3)
