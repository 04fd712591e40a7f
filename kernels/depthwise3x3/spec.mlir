// Transform spec: MobileNetV2-style depthwise 3x3 convolutions (f32, stride 1 and 2, as
// `iree-preprocessing-convert-conv-to-channels-last` leaves them: an NHWC tensor transposed to
// NCHW, then linalg.depthwise_conv_2d_nchw_chw) become calls into depthwise3x3.o.
// Given to iree-compile with --iree-preprocessing-transform-spec-filename=spec.mlir and
// --iree-hal-executable-object-search-path=<directory holding depthwise3x3.o>.

// Objects by target, each generic (no configuration): they apply to every llvm-cpu target of
// that format, whatever its CPU and features, so the executable below is compiled for the very
// target the model is (and linked with its other dispatches).
#x86_64 = #hal.executable.target<"llvm-cpu", "embedded-elf-x86_64">
#arm_64 = #hal.executable.target<"llvm-cpu", "embedded-elf-arm_64">
#arm_32 = #hal.executable.target<"llvm-cpu", "embedded-elf-arm_32">

#layout = #hal.pipeline.layout<constants = 5, bindings = [
  #hal.pipeline.binding<storage_buffer, ReadOnly>,
  #hal.pipeline.binding<storage_buffer, ReadOnly>,
  #hal.pipeline.binding<storage_buffer>
]>

module attributes {transform.with_named_sequence} {

  // (Generic syntax: releases differ in how the custom form spells `objects`.)
  "hal.executable.source"() <{sym_name = "depthwise3x3", sym_visibility = "private",
    objects = #hal.executable.objects<{
      #x86_64 = [#hal.executable.object<{path = "depthwise3x3.o"}>],
      #arm_64 = [#hal.executable.object<{path = "depthwise3x3.o"}>],
      #arm_32 = [#hal.executable.object<{path = "depthwise3x3.o"}>]
    }>}> ({
      hal.executable.export public @s1 ordinal(0) layout(#layout) count(%device: !hal.device, %oh: index) -> (index, index, index) {
        %x = affine.apply affine_map<()[s0] -> (s0 ceildiv 2)>()[%oh]
        %c1 = arith.constant 1 : index
        hal.return %x, %c1, %c1 : index, index, index
      }
      hal.executable.export public @s2 ordinal(1) layout(#layout) count(%device: !hal.device, %oh: index) -> (index, index, index) {
        %x = affine.apply affine_map<()[s0] -> (s0 ceildiv 2)>()[%oh]
        %c1 = arith.constant 1 : index
        hal.return %x, %c1, %c1 : index, index, index
      }
      builtin.module {
        func.func private @depthwise3x3_s1_nhwc_padded(memref<?xf32>, memref<?xf32>, memref<?xf32>, index, index, index, index, index, index, index) attributes {hal.import.static}
        func.func private @depthwise3x3_s2_nhwc_padded(memref<?xf32>, memref<?xf32>, memref<?xf32>, index, index, index, index, index, index, index) attributes {hal.import.static}
        func.func @s1() {
          %c0 = arith.constant 0 : index
          %c2 = arith.constant 2 : index
          %c9 = arith.constant 9 : index
          %hp_i32 = hal.interface.constant.load layout(#layout) ordinal(0) : i32
          %wp_i32 = hal.interface.constant.load layout(#layout) ordinal(1) : i32
          %c_i32 = hal.interface.constant.load layout(#layout) ordinal(2) : i32
          %oh_i32 = hal.interface.constant.load layout(#layout) ordinal(3) : i32
          %ow_i32 = hal.interface.constant.load layout(#layout) ordinal(4) : i32
          %hp = arith.index_castui %hp_i32 : i32 to index
          %wp = arith.index_castui %wp_i32 : i32 to index
          %c = arith.index_castui %c_i32 : i32 to index
          %oh = arith.index_castui %oh_i32 : i32 to index
          %ow = arith.index_castui %ow_i32 : i32 to index
          %in_n = affine.apply affine_map<()[s0, s1, s2] -> (s0 * s1 * s2)>()[%hp, %wp, %c]
          %f_n = affine.apply affine_map<()[s0] -> (s0 * 9)>()[%c]
          %out_n = affine.apply affine_map<()[s0, s1, s2] -> (s0 * s1 * s2)>()[%oh, %ow, %c]
          %in = hal.interface.binding.subspan layout(#layout) binding(0) alignment(64) offset(%c0) : memref<?xf32>{%in_n}
          %filter = hal.interface.binding.subspan layout(#layout) binding(1) alignment(64) offset(%c0) : memref<?xf32>{%f_n}
          %out = hal.interface.binding.subspan layout(#layout) binding(2) alignment(64) offset(%c0) : memref<?xf32>{%out_n}
          %wg = hal.interface.workgroup.id[0] : index
          %row = affine.apply affine_map<()[s0] -> (s0 * 2)>()[%wg]
          func.call @depthwise3x3_s1_nhwc_padded(%in, %filter, %out, %hp, %wp, %c, %oh, %ow, %row, %c2) : (memref<?xf32>, memref<?xf32>, memref<?xf32>, index, index, index, index, index, index, index) -> ()
          return
        }
        func.func @s2() {
          %c0 = arith.constant 0 : index
          %c2 = arith.constant 2 : index
          %hp_i32 = hal.interface.constant.load layout(#layout) ordinal(0) : i32
          %wp_i32 = hal.interface.constant.load layout(#layout) ordinal(1) : i32
          %c_i32 = hal.interface.constant.load layout(#layout) ordinal(2) : i32
          %oh_i32 = hal.interface.constant.load layout(#layout) ordinal(3) : i32
          %ow_i32 = hal.interface.constant.load layout(#layout) ordinal(4) : i32
          %hp = arith.index_castui %hp_i32 : i32 to index
          %wp = arith.index_castui %wp_i32 : i32 to index
          %c = arith.index_castui %c_i32 : i32 to index
          %oh = arith.index_castui %oh_i32 : i32 to index
          %ow = arith.index_castui %ow_i32 : i32 to index
          %in_n = affine.apply affine_map<()[s0, s1, s2] -> (s0 * s1 * s2)>()[%hp, %wp, %c]
          %f_n = affine.apply affine_map<()[s0] -> (s0 * 9)>()[%c]
          %out_n = affine.apply affine_map<()[s0, s1, s2] -> (s0 * s1 * s2)>()[%oh, %ow, %c]
          %in = hal.interface.binding.subspan layout(#layout) binding(0) alignment(64) offset(%c0) : memref<?xf32>{%in_n}
          %filter = hal.interface.binding.subspan layout(#layout) binding(1) alignment(64) offset(%c0) : memref<?xf32>{%f_n}
          %out = hal.interface.binding.subspan layout(#layout) binding(2) alignment(64) offset(%c0) : memref<?xf32>{%out_n}
          %wg = hal.interface.workgroup.id[0] : index
          %row = affine.apply affine_map<()[s0] -> (s0 * 2)>()[%wg]
          func.call @depthwise3x3_s2_nhwc_padded(%in, %filter, %out, %hp, %wp, %c, %oh, %ow, %row, %c2) : (memref<?xf32>, memref<?xf32>, memref<?xf32>, index, index, index, index, index, index, index) -> ()
          return
        }
      }
      "hal.executable.source_end"() : () -> ()
  }) : () -> ()

  // Padded NHWC input [1, hp, wp, c], filter [c, 3, 3] -> NCHW result [1, c, oh, ow], as the
  // replaced linalg.depthwise_conv_2d_nchw_chw gave it (the transpose back to NHWC cancels
  // against the one the channels-last pass put after the convolution's consumers).
  util.func private @depthwise3x3_s1_call(%in: tensor<1x?x?x?xf32>, %filter: tensor<?x3x3xf32>) -> tensor<1x?x?x?xf32> attributes {inlining_policy = #util.inline.always} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c3 = arith.constant 3 : index
    %hp = tensor.dim %in, %c1 : tensor<1x?x?x?xf32>
    %wp = tensor.dim %in, %c2 : tensor<1x?x?x?xf32>
    %c = tensor.dim %in, %c3 : tensor<1x?x?x?xf32>
    %oh = arith.subi %hp, %c2 : index
    %ow = arith.subi %wp, %c2 : index
    %fe = tensor.empty(%c) : tensor<3x3x?xf32>
    %ft = linalg.transpose ins(%filter : tensor<?x3x3xf32>) outs(%fe : tensor<3x3x?xf32>) permutation = [1, 2, 0]
    %hp_i32 = arith.index_cast %hp : index to i32
    %wp_i32 = arith.index_cast %wp : index to i32
    %c_i32 = arith.index_cast %c : index to i32
    %oh_i32 = arith.index_cast %oh : index to i32
    %ow_i32 = arith.index_cast %ow : index to i32
    %nhwc = flow.dispatch @depthwise3x3::@s1[%oh](%hp_i32, %wp_i32, %c_i32, %oh_i32, %ow_i32, %in, %ft)
        : (i32, i32, i32, i32, i32, tensor<1x?x?x?xf32>{%hp, %wp, %c}, tensor<3x3x?xf32>{%c}) -> tensor<1x?x?x?xf32>{%oh, %ow, %c}
    %oe = tensor.empty(%c, %oh, %ow) : tensor<1x?x?x?xf32>
    %nchw = linalg.transpose ins(%nhwc : tensor<1x?x?x?xf32>) outs(%oe : tensor<1x?x?x?xf32>) permutation = [0, 3, 1, 2]
    util.return %nchw : tensor<1x?x?x?xf32>
  }

  util.func private @depthwise3x3_s2_call(%in: tensor<1x?x?x?xf32>, %filter: tensor<?x3x3xf32>) -> tensor<1x?x?x?xf32> attributes {inlining_policy = #util.inline.always} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c3 = arith.constant 3 : index
    %hp = tensor.dim %in, %c1 : tensor<1x?x?x?xf32>
    %wp = tensor.dim %in, %c2 : tensor<1x?x?x?xf32>
    %c = tensor.dim %in, %c3 : tensor<1x?x?x?xf32>
    %oh = affine.apply affine_map<()[s0] -> ((s0 - 3) floordiv 2 + 1)>()[%hp]
    %ow = affine.apply affine_map<()[s0] -> ((s0 - 3) floordiv 2 + 1)>()[%wp]
    %fe = tensor.empty(%c) : tensor<3x3x?xf32>
    %ft = linalg.transpose ins(%filter : tensor<?x3x3xf32>) outs(%fe : tensor<3x3x?xf32>) permutation = [1, 2, 0]
    %hp_i32 = arith.index_cast %hp : index to i32
    %wp_i32 = arith.index_cast %wp : index to i32
    %c_i32 = arith.index_cast %c : index to i32
    %oh_i32 = arith.index_cast %oh : index to i32
    %ow_i32 = arith.index_cast %ow : index to i32
    %nhwc = flow.dispatch @depthwise3x3::@s2[%oh](%hp_i32, %wp_i32, %c_i32, %oh_i32, %ow_i32, %in, %ft)
        : (i32, i32, i32, i32, i32, tensor<1x?x?x?xf32>{%hp, %wp, %c}, tensor<3x3x?xf32>{%c}) -> tensor<1x?x?x?xf32>{%oh, %ow, %c}
    %oe = tensor.empty(%c, %oh, %ow) : tensor<1x?x?x?xf32>
    %nchw = linalg.transpose ins(%nhwc : tensor<1x?x?x?xf32>) outs(%oe : tensor<1x?x?x?xf32>) permutation = [0, 3, 1, 2]
    util.return %nchw : tensor<1x?x?x?xf32>
  }

  // linalg.depthwise_conv_2d_nchw_chw (3x3, stride 1) on an NHWC tensor transposed to NCHW,
  // accumulating into zeros.
  transform.named_sequence @match_s1(%root: !transform.any_op {transform.readonly}) -> (!transform.any_value, !transform.any_value) {
    %ins, %outs = transform.iree.match.cast_compatible_dag_from_root %root {
      ^bb0(%in: tensor<1x?x?x?xf32>, %filter: tensor<?x3x3xf32>):
        %c1 = arith.constant 1 : index
        %c2 = arith.constant 2 : index
        %c3 = arith.constant 3 : index
        %d1 = tensor.dim %in, %c1 : tensor<1x?x?x?xf32>
        %d2 = tensor.dim %in, %c2 : tensor<1x?x?x?xf32>
        %d3 = tensor.dim %in, %c3 : tensor<1x?x?x?xf32>
        %te = tensor.empty(%d3, %d1, %d2) {"match.operation_name_only"} : tensor<1x?x?x?xf32>
        %nchw = linalg.transpose ins(%in : tensor<1x?x?x?xf32>) outs(%te : tensor<1x?x?x?xf32>) permutation = [0, 3, 1, 2]
        %zero = arith.constant 0.000000e+00 : f32
        %oe = tensor.empty(%d3, %d1, %d2) {"match.operation_name_only"} : tensor<1x?x?x?xf32>
        %fill = linalg.fill ins(%zero : f32) outs(%oe : tensor<1x?x?x?xf32>) -> tensor<1x?x?x?xf32>
        %conv = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>}
            ins(%nchw, %filter : tensor<1x?x?x?xf32>, tensor<?x3x3xf32>) outs(%fill : tensor<1x?x?x?xf32>) -> tensor<1x?x?x?xf32>
    } : (!transform.any_op) -> (!transform.any_value, !transform.any_value)
    transform.yield %ins, %outs : !transform.any_value, !transform.any_value
  }

  transform.named_sequence @match_s2(%root: !transform.any_op {transform.readonly}) -> (!transform.any_value, !transform.any_value) {
    %ins, %outs = transform.iree.match.cast_compatible_dag_from_root %root {
      ^bb0(%in: tensor<1x?x?x?xf32>, %filter: tensor<?x3x3xf32>):
        %c1 = arith.constant 1 : index
        %c2 = arith.constant 2 : index
        %c3 = arith.constant 3 : index
        %d1 = tensor.dim %in, %c1 : tensor<1x?x?x?xf32>
        %d2 = tensor.dim %in, %c2 : tensor<1x?x?x?xf32>
        %d3 = tensor.dim %in, %c3 : tensor<1x?x?x?xf32>
        %te = tensor.empty(%d3, %d1, %d2) {"match.operation_name_only"} : tensor<1x?x?x?xf32>
        %nchw = linalg.transpose ins(%in : tensor<1x?x?x?xf32>) outs(%te : tensor<1x?x?x?xf32>) permutation = [0, 3, 1, 2]
        %zero = arith.constant 0.000000e+00 : f32
        %oe = tensor.empty(%d3, %d1, %d2) {"match.operation_name_only"} : tensor<1x?x?x?xf32>
        %fill = linalg.fill ins(%zero : f32) outs(%oe : tensor<1x?x?x?xf32>) -> tensor<1x?x?x?xf32>
        %conv = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>}
            ins(%nchw, %filter : tensor<1x?x?x?xf32>, tensor<?x3x3xf32>) outs(%fill : tensor<1x?x?x?xf32>) -> tensor<1x?x?x?xf32>
    } : (!transform.any_op) -> (!transform.any_value, !transform.any_value)
    transform.yield %ins, %outs : !transform.any_value, !transform.any_value
  }

  transform.named_sequence @call_s1(%ins: !transform.any_value {transform.readonly}, %out: !transform.any_value {transform.readonly}) {
    %root = transform.get_defining_op %out : (!transform.any_value) -> !transform.any_op
    %module = transform.util.get_nearest_symbol_table %root : (!transform.any_op) -> !transform.any_op
    %executable = transform.util.import_symbol @depthwise3x3 into %module if undefined : (!transform.any_op) -> !transform.any_op
    %func = transform.util.import_symbol @depthwise3x3_s1_call into %module if undefined : (!transform.any_op) -> !transform.any_op
    transform.util.cast_and_call %func(%ins) -> %out after %root {
      transform.type_conversion.tensor.cast_shape_dynamic_dims
    } : (!transform.any_op, !transform.any_value, !transform.any_value, !transform.any_op) -> !transform.any_op
    transform.yield
  }

  transform.named_sequence @call_s2(%ins: !transform.any_value {transform.readonly}, %out: !transform.any_value {transform.readonly}) {
    %root = transform.get_defining_op %out : (!transform.any_value) -> !transform.any_op
    %module = transform.util.get_nearest_symbol_table %root : (!transform.any_op) -> !transform.any_op
    %executable = transform.util.import_symbol @depthwise3x3 into %module if undefined : (!transform.any_op) -> !transform.any_op
    %func = transform.util.import_symbol @depthwise3x3_s2_call into %module if undefined : (!transform.any_op) -> !transform.any_op
    transform.util.cast_and_call %func(%ins) -> %out after %root {
      transform.type_conversion.tensor.cast_shape_dynamic_dims
    } : (!transform.any_op, !transform.any_value, !transform.any_value, !transform.any_op) -> !transform.any_op
    transform.yield
  }

  transform.named_sequence @__transform_main(%module: !transform.any_op) {
    %funcs = transform.structured.match ops{["util.func"]} in %module : (!transform.any_op) -> !transform.any_op
    transform.foreach %funcs : !transform.any_op {
      ^bb1(%func: !transform.any_op):
        transform.foreach_match in %func
            @match_s1 -> @call_s1,
            @match_s2 -> @call_s2
          : (!transform.any_op) -> (!transform.any_op)
    }
    transform.apply_dce to %module : !transform.any_op
    // Inline the call wrappers: no inliner runs after preprocessing, and inlined, their filter
    // transposes fold into constants and their output transposes cancel against the model's.
    %inlined = transform.apply_registered_pass "inline" to %module : (!transform.any_op) -> !transform.any_op
    transform.yield
  }
}
