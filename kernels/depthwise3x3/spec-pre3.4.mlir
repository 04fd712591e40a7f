// spec.mlir for IREE releases before 3.4.0 (checked with 3.3.0), the same patterns and executable
// in the older spellings: hal.executable.export's workgroup-count region as a bare
// `{ ^bb0(%device: !hal.device, ...): }` (3.4.0 added `count(...) -> (index, index, index)`, and a
// second region, so the generic form cannot serve both), and transform.util.cast_and_call without
// `inline_call`, returning the call (the final "inline" pass inlines it instead). Made from
// spec.mlir by those two substitutions; keep them in step.
// Transform spec: depthwise 3x3 convolutions (f32, zero padding 1, stride 1 and 2) as
// `iree-preprocessing-convert-conv-to-channels-last` leaves them in a PyTorch model
// (tensor.pad of an NHWC tensor, collapsed, transposed to NCHW, linalg.depthwise_conv_2d_nchw_chw)
// become calls into depthwise3x3.o, which reads the unpadded NHWC tensor and pads inside.
//
//   iree-compile ... --iree-preprocessing-transform-spec-filename=spec.mlir \
//     --iree-hal-executable-object-search-path=<directory holding depthwise3x3.o>
//
// Shape-generic patterns (dynamic dims, cast-compatible). Several passes, because
// `transform.iree.match.cast_compatible_dag_from_root` cannot match a tensor.pad (it compares the
// pad's region, whose tensor.yield uses a constant defined outside the DAG, before that constant
// is mapped) nor a static tensor.expand_shape against a dynamic one (output_shape operands):
//   1. each pad of one pixel on each side of H and W (checked by static_low/static_high) becomes a
//      call of @depthwise3x3_pad(x, value), each expand to [1, 1, h, w, c] a call of
//      @depthwise3x3_expand(x);
//   2a. a depthwise convolution (pad call with value 0.0 ... conv) followed by an inference
//      BatchNorm, max(x, 0), the transpose back to NHWC and min(x, 6) becomes one dispatch of the
//      fused entry (stride 1 or 2);
//   3. the stem (NCHW input transposed, padded, conv_2d_nhwc_hwcf 3x3 stride 2, BatchNorm, ReLU6)
//      becomes one dispatch reading the NCHW input;
//   2b. a depthwise convolution without that epilogue becomes the plain entry.
// The spec inlines whatever it created at the end, so a pad or expand no pattern took is a
// tensor.pad or tensor.expand_shape again.

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

#layout_bn = #hal.pipeline.layout<constants = 5, bindings = [
  #hal.pipeline.binding<storage_buffer, ReadOnly>,
  #hal.pipeline.binding<storage_buffer, ReadOnly>,
  #hal.pipeline.binding<storage_buffer, ReadOnly>,
  #hal.pipeline.binding<storage_buffer, ReadOnly>,
  #hal.pipeline.binding<storage_buffer>
]>

#layout_stem = #hal.pipeline.layout<constants = 6, bindings = [
  #hal.pipeline.binding<storage_buffer, ReadOnly>,
  #hal.pipeline.binding<storage_buffer, ReadOnly>,
  #hal.pipeline.binding<storage_buffer, ReadOnly>,
  #hal.pipeline.binding<storage_buffer, ReadOnly>,
  #hal.pipeline.binding<storage_buffer>
]>

module attributes {transform.with_named_sequence} {

  // (Generic syntax, its attributes in the attribute dictionary after the region: releases differ
  // in how the custom form spells `objects`, and 3.4-3.6 give this op no properties, `<{...}>`.)
  "hal.executable.source"() ({
      hal.executable.export public @s1 ordinal(0) layout(#layout) {
      ^bb0(%device: !hal.device, %oh: index):
        %x = affine.apply affine_map<()[s0] -> (s0 ceildiv 2)>()[%oh]
        %c1 = arith.constant 1 : index
        hal.return %x, %c1, %c1 : index, index, index
      }
      hal.executable.export public @s2 ordinal(1) layout(#layout) {
      ^bb0(%device: !hal.device, %oh: index):
        %x = affine.apply affine_map<()[s0] -> (s0 ceildiv 2)>()[%oh]
        %c1 = arith.constant 1 : index
        hal.return %x, %c1, %c1 : index, index, index
      }
      hal.executable.export public @s1_bn ordinal(2) layout(#layout_bn) {
      ^bb0(%device: !hal.device, %oh: index):
        %x = affine.apply affine_map<()[s0] -> (s0 ceildiv 2)>()[%oh]
        %c1 = arith.constant 1 : index
        hal.return %x, %c1, %c1 : index, index, index
      }
      hal.executable.export public @s2_bn ordinal(3) layout(#layout_bn) {
      ^bb0(%device: !hal.device, %oh: index):
        %x = affine.apply affine_map<()[s0] -> (s0 ceildiv 2)>()[%oh]
        %c1 = arith.constant 1 : index
        hal.return %x, %c1, %c1 : index, index, index
      }
      hal.executable.export public @stem ordinal(4) layout(#layout_stem) {
      ^bb0(%device: !hal.device, %oh: index):
        %x = affine.apply affine_map<()[s0] -> (s0 ceildiv 2)>()[%oh]
        %c1 = arith.constant 1 : index
        hal.return %x, %c1, %c1 : index, index, index
      }
      hal.executable.export public @s1_k5 ordinal(5) layout(#layout) {
      ^bb0(%device: !hal.device, %oh: index):
        %x = affine.apply affine_map<()[s0] -> (s0 ceildiv 2)>()[%oh]
        %c1 = arith.constant 1 : index
        hal.return %x, %c1, %c1 : index, index, index
      }
      hal.executable.export public @s2_k5 ordinal(6) layout(#layout) {
      ^bb0(%device: !hal.device, %oh: index):
        %x = affine.apply affine_map<()[s0] -> (s0 ceildiv 2)>()[%oh]
        %c1 = arith.constant 1 : index
        hal.return %x, %c1, %c1 : index, index, index
      }
      builtin.module {
        // in [h][w][c], filter [3][3][c], out [oh][ow][c]; h, w, c, oh, ow, first row, rows.
        func.func private @depthwise3x3_s1_nhwc(memref<?xf32>, memref<?xf32>, memref<?xf32>, index, index, index, index, index, index, index) attributes {hal.import.static}
        func.func private @depthwise3x3_s2_nhwc(memref<?xf32>, memref<?xf32>, memref<?xf32>, index, index, index, index, index, index, index) attributes {hal.import.static}
        // Two output rows per workgroup.
        func.func @s1() {
          %c0 = arith.constant 0 : index
          %c2 = arith.constant 2 : index
          %h_i32 = hal.interface.constant.load layout(#layout) ordinal(0) : i32
          %w_i32 = hal.interface.constant.load layout(#layout) ordinal(1) : i32
          %c_i32 = hal.interface.constant.load layout(#layout) ordinal(2) : i32
          %oh_i32 = hal.interface.constant.load layout(#layout) ordinal(3) : i32
          %ow_i32 = hal.interface.constant.load layout(#layout) ordinal(4) : i32
          %h = arith.index_castui %h_i32 : i32 to index
          %w = arith.index_castui %w_i32 : i32 to index
          %c = arith.index_castui %c_i32 : i32 to index
          %oh = arith.index_castui %oh_i32 : i32 to index
          %ow = arith.index_castui %ow_i32 : i32 to index
          %in_n = affine.apply affine_map<()[s0, s1, s2] -> (s0 * s1 * s2)>()[%h, %w, %c]
          %f_n = affine.apply affine_map<()[s0] -> (s0 * 9)>()[%c]
          %out_n = affine.apply affine_map<()[s0, s1, s2] -> (s0 * s1 * s2)>()[%oh, %ow, %c]
          %in = hal.interface.binding.subspan layout(#layout) binding(0) alignment(64) offset(%c0) : memref<?xf32>{%in_n}
          %filter = hal.interface.binding.subspan layout(#layout) binding(1) alignment(64) offset(%c0) : memref<?xf32>{%f_n}
          %out = hal.interface.binding.subspan layout(#layout) binding(2) alignment(64) offset(%c0) : memref<?xf32>{%out_n}
          %wg = hal.interface.workgroup.id[0] : index
          %row = affine.apply affine_map<()[s0] -> (s0 * 2)>()[%wg]
          func.call @depthwise3x3_s1_nhwc(%in, %filter, %out, %h, %w, %c, %oh, %ow, %row, %c2) : (memref<?xf32>, memref<?xf32>, memref<?xf32>, index, index, index, index, index, index, index) -> ()
          return
        }
        // Two output rows per workgroup.
        func.func @s2() {
          %c0 = arith.constant 0 : index
          %c2 = arith.constant 2 : index
          %h_i32 = hal.interface.constant.load layout(#layout) ordinal(0) : i32
          %w_i32 = hal.interface.constant.load layout(#layout) ordinal(1) : i32
          %c_i32 = hal.interface.constant.load layout(#layout) ordinal(2) : i32
          %oh_i32 = hal.interface.constant.load layout(#layout) ordinal(3) : i32
          %ow_i32 = hal.interface.constant.load layout(#layout) ordinal(4) : i32
          %h = arith.index_castui %h_i32 : i32 to index
          %w = arith.index_castui %w_i32 : i32 to index
          %c = arith.index_castui %c_i32 : i32 to index
          %oh = arith.index_castui %oh_i32 : i32 to index
          %ow = arith.index_castui %ow_i32 : i32 to index
          %in_n = affine.apply affine_map<()[s0, s1, s2] -> (s0 * s1 * s2)>()[%h, %w, %c]
          %f_n = affine.apply affine_map<()[s0] -> (s0 * 9)>()[%c]
          %out_n = affine.apply affine_map<()[s0, s1, s2] -> (s0 * s1 * s2)>()[%oh, %ow, %c]
          %in = hal.interface.binding.subspan layout(#layout) binding(0) alignment(64) offset(%c0) : memref<?xf32>{%in_n}
          %filter = hal.interface.binding.subspan layout(#layout) binding(1) alignment(64) offset(%c0) : memref<?xf32>{%f_n}
          %out = hal.interface.binding.subspan layout(#layout) binding(2) alignment(64) offset(%c0) : memref<?xf32>{%out_n}
          %wg = hal.interface.workgroup.id[0] : index
          %row = affine.apply affine_map<()[s0] -> (s0 * 2)>()[%wg]
          func.call @depthwise3x3_s2_nhwc(%in, %filter, %out, %h, %w, %c, %oh, %ow, %row, %c2) : (memref<?xf32>, memref<?xf32>, memref<?xf32>, index, index, index, index, index, index, index) -> ()
          return
        }
        func.func private @depthwise3x3_bn_relu6_s1_nhwc(memref<?xf32>, memref<?xf32>, memref<?xf32>, memref<?xf32>, memref<?xf32>, index, index, index, index, index, index, index) attributes {hal.import.static}
        func.func private @depthwise3x3_bn_relu6_s2_nhwc(memref<?xf32>, memref<?xf32>, memref<?xf32>, memref<?xf32>, memref<?xf32>, index, index, index, index, index, index, index) attributes {hal.import.static}
        // Two output rows per workgroup; BatchNorm (scale, shift) and ReLU6 fused.
        func.func @s1_bn() {
          %c0 = arith.constant 0 : index
          %c2 = arith.constant 2 : index
          %h_i32 = hal.interface.constant.load layout(#layout_bn) ordinal(0) : i32
          %w_i32 = hal.interface.constant.load layout(#layout_bn) ordinal(1) : i32
          %c_i32 = hal.interface.constant.load layout(#layout_bn) ordinal(2) : i32
          %oh_i32 = hal.interface.constant.load layout(#layout_bn) ordinal(3) : i32
          %ow_i32 = hal.interface.constant.load layout(#layout_bn) ordinal(4) : i32
          %h = arith.index_castui %h_i32 : i32 to index
          %w = arith.index_castui %w_i32 : i32 to index
          %c = arith.index_castui %c_i32 : i32 to index
          %oh = arith.index_castui %oh_i32 : i32 to index
          %ow = arith.index_castui %ow_i32 : i32 to index
          %in_n = affine.apply affine_map<()[s0, s1, s2] -> (s0 * s1 * s2)>()[%h, %w, %c]
          %f_n = affine.apply affine_map<()[s0] -> (s0 * 9)>()[%c]
          %out_n = affine.apply affine_map<()[s0, s1, s2] -> (s0 * s1 * s2)>()[%oh, %ow, %c]
          %in = hal.interface.binding.subspan layout(#layout_bn) binding(0) alignment(64) offset(%c0) : memref<?xf32>{%in_n}
          %filter = hal.interface.binding.subspan layout(#layout_bn) binding(1) alignment(64) offset(%c0) : memref<?xf32>{%f_n}
          %scale = hal.interface.binding.subspan layout(#layout_bn) binding(2) alignment(64) offset(%c0) : memref<?xf32>{%c}
          %shift = hal.interface.binding.subspan layout(#layout_bn) binding(3) alignment(64) offset(%c0) : memref<?xf32>{%c}
          %out = hal.interface.binding.subspan layout(#layout_bn) binding(4) alignment(64) offset(%c0) : memref<?xf32>{%out_n}
          %wg = hal.interface.workgroup.id[0] : index
          %row = affine.apply affine_map<()[s0] -> (s0 * 2)>()[%wg]
          func.call @depthwise3x3_bn_relu6_s1_nhwc(%in, %filter, %scale, %shift, %out, %h, %w, %c, %oh, %ow, %row, %c2) : (memref<?xf32>, memref<?xf32>, memref<?xf32>, memref<?xf32>, memref<?xf32>, index, index, index, index, index, index, index) -> ()
          return
        }
        // Two output rows per workgroup; BatchNorm (scale, shift) and ReLU6 fused.
        func.func @s2_bn() {
          %c0 = arith.constant 0 : index
          %c2 = arith.constant 2 : index
          %h_i32 = hal.interface.constant.load layout(#layout_bn) ordinal(0) : i32
          %w_i32 = hal.interface.constant.load layout(#layout_bn) ordinal(1) : i32
          %c_i32 = hal.interface.constant.load layout(#layout_bn) ordinal(2) : i32
          %oh_i32 = hal.interface.constant.load layout(#layout_bn) ordinal(3) : i32
          %ow_i32 = hal.interface.constant.load layout(#layout_bn) ordinal(4) : i32
          %h = arith.index_castui %h_i32 : i32 to index
          %w = arith.index_castui %w_i32 : i32 to index
          %c = arith.index_castui %c_i32 : i32 to index
          %oh = arith.index_castui %oh_i32 : i32 to index
          %ow = arith.index_castui %ow_i32 : i32 to index
          %in_n = affine.apply affine_map<()[s0, s1, s2] -> (s0 * s1 * s2)>()[%h, %w, %c]
          %f_n = affine.apply affine_map<()[s0] -> (s0 * 9)>()[%c]
          %out_n = affine.apply affine_map<()[s0, s1, s2] -> (s0 * s1 * s2)>()[%oh, %ow, %c]
          %in = hal.interface.binding.subspan layout(#layout_bn) binding(0) alignment(64) offset(%c0) : memref<?xf32>{%in_n}
          %filter = hal.interface.binding.subspan layout(#layout_bn) binding(1) alignment(64) offset(%c0) : memref<?xf32>{%f_n}
          %scale = hal.interface.binding.subspan layout(#layout_bn) binding(2) alignment(64) offset(%c0) : memref<?xf32>{%c}
          %shift = hal.interface.binding.subspan layout(#layout_bn) binding(3) alignment(64) offset(%c0) : memref<?xf32>{%c}
          %out = hal.interface.binding.subspan layout(#layout_bn) binding(4) alignment(64) offset(%c0) : memref<?xf32>{%out_n}
          %wg = hal.interface.workgroup.id[0] : index
          %row = affine.apply affine_map<()[s0] -> (s0 * 2)>()[%wg]
          func.call @depthwise3x3_bn_relu6_s2_nhwc(%in, %filter, %scale, %shift, %out, %h, %w, %c, %oh, %ow, %row, %c2) : (memref<?xf32>, memref<?xf32>, memref<?xf32>, memref<?xf32>, memref<?xf32>, index, index, index, index, index, index, index) -> ()
          return
        }
        // 5x5, padding 2: in [h][w][c], filter [5][5][c], out [oh][ow][c]; two output rows per workgroup.
        func.func private @depthwise5x5_s1_nhwc(memref<?xf32>, memref<?xf32>, memref<?xf32>, index, index, index, index, index, index, index) attributes {hal.import.static}
        func.func @s1_k5() {
          %c0 = arith.constant 0 : index
          %c2 = arith.constant 2 : index
          %h_i32 = hal.interface.constant.load layout(#layout) ordinal(0) : i32
          %w_i32 = hal.interface.constant.load layout(#layout) ordinal(1) : i32
          %c_i32 = hal.interface.constant.load layout(#layout) ordinal(2) : i32
          %oh_i32 = hal.interface.constant.load layout(#layout) ordinal(3) : i32
          %ow_i32 = hal.interface.constant.load layout(#layout) ordinal(4) : i32
          %h = arith.index_castui %h_i32 : i32 to index
          %w = arith.index_castui %w_i32 : i32 to index
          %c = arith.index_castui %c_i32 : i32 to index
          %oh = arith.index_castui %oh_i32 : i32 to index
          %ow = arith.index_castui %ow_i32 : i32 to index
          %in_n = affine.apply affine_map<()[s0, s1, s2] -> (s0 * s1 * s2)>()[%h, %w, %c]
          %f_n = affine.apply affine_map<()[s0] -> (s0 * 25)>()[%c]
          %out_n = affine.apply affine_map<()[s0, s1, s2] -> (s0 * s1 * s2)>()[%oh, %ow, %c]
          %in = hal.interface.binding.subspan layout(#layout) binding(0) alignment(64) offset(%c0) : memref<?xf32>{%in_n}
          %filter = hal.interface.binding.subspan layout(#layout) binding(1) alignment(64) offset(%c0) : memref<?xf32>{%f_n}
          %out = hal.interface.binding.subspan layout(#layout) binding(2) alignment(64) offset(%c0) : memref<?xf32>{%out_n}
          %wg = hal.interface.workgroup.id[0] : index
          %row = affine.apply affine_map<()[s0] -> (s0 * 2)>()[%wg]
          func.call @depthwise5x5_s1_nhwc(%in, %filter, %out, %h, %w, %c, %oh, %ow, %row, %c2) : (memref<?xf32>, memref<?xf32>, memref<?xf32>, index, index, index, index, index, index, index) -> ()
          return
        }
        // 5x5, padding 2: in [h][w][c], filter [5][5][c], out [oh][ow][c]; two output rows per workgroup.
        func.func private @depthwise5x5_s2_nhwc(memref<?xf32>, memref<?xf32>, memref<?xf32>, index, index, index, index, index, index, index) attributes {hal.import.static}
        func.func @s2_k5() {
          %c0 = arith.constant 0 : index
          %c2 = arith.constant 2 : index
          %h_i32 = hal.interface.constant.load layout(#layout) ordinal(0) : i32
          %w_i32 = hal.interface.constant.load layout(#layout) ordinal(1) : i32
          %c_i32 = hal.interface.constant.load layout(#layout) ordinal(2) : i32
          %oh_i32 = hal.interface.constant.load layout(#layout) ordinal(3) : i32
          %ow_i32 = hal.interface.constant.load layout(#layout) ordinal(4) : i32
          %h = arith.index_castui %h_i32 : i32 to index
          %w = arith.index_castui %w_i32 : i32 to index
          %c = arith.index_castui %c_i32 : i32 to index
          %oh = arith.index_castui %oh_i32 : i32 to index
          %ow = arith.index_castui %ow_i32 : i32 to index
          %in_n = affine.apply affine_map<()[s0, s1, s2] -> (s0 * s1 * s2)>()[%h, %w, %c]
          %f_n = affine.apply affine_map<()[s0] -> (s0 * 25)>()[%c]
          %out_n = affine.apply affine_map<()[s0, s1, s2] -> (s0 * s1 * s2)>()[%oh, %ow, %c]
          %in = hal.interface.binding.subspan layout(#layout) binding(0) alignment(64) offset(%c0) : memref<?xf32>{%in_n}
          %filter = hal.interface.binding.subspan layout(#layout) binding(1) alignment(64) offset(%c0) : memref<?xf32>{%f_n}
          %out = hal.interface.binding.subspan layout(#layout) binding(2) alignment(64) offset(%c0) : memref<?xf32>{%out_n}
          %wg = hal.interface.workgroup.id[0] : index
          %row = affine.apply affine_map<()[s0] -> (s0 * 2)>()[%wg]
          func.call @depthwise5x5_s2_nhwc(%in, %filter, %out, %h, %w, %c, %oh, %ow, %row, %c2) : (memref<?xf32>, memref<?xf32>, memref<?xf32>, index, index, index, index, index, index, index) -> ()
          return
        }
        func.func private @conv3x3_s2_bn_relu6_nchw_nhwc(memref<?xf32>, memref<?xf32>, memref<?xf32>, memref<?xf32>, memref<?xf32>, index, index, index, index, index, index, index, index) attributes {hal.import.static}
        // The stem: NCHW input [cin][h][w], filter [3][3][cin][cout], NHWC output; two output rows
        // per workgroup.
        func.func @stem() {
          %c0 = arith.constant 0 : index
          %c2 = arith.constant 2 : index
          %h_i32 = hal.interface.constant.load layout(#layout_stem) ordinal(0) : i32
          %w_i32 = hal.interface.constant.load layout(#layout_stem) ordinal(1) : i32
          %ci_i32 = hal.interface.constant.load layout(#layout_stem) ordinal(2) : i32
          %co_i32 = hal.interface.constant.load layout(#layout_stem) ordinal(3) : i32
          %oh_i32 = hal.interface.constant.load layout(#layout_stem) ordinal(4) : i32
          %ow_i32 = hal.interface.constant.load layout(#layout_stem) ordinal(5) : i32
          %h = arith.index_castui %h_i32 : i32 to index
          %w = arith.index_castui %w_i32 : i32 to index
          %ci = arith.index_castui %ci_i32 : i32 to index
          %co = arith.index_castui %co_i32 : i32 to index
          %oh = arith.index_castui %oh_i32 : i32 to index
          %ow = arith.index_castui %ow_i32 : i32 to index
          %in_n = affine.apply affine_map<()[s0, s1, s2] -> (s0 * s1 * s2)>()[%h, %w, %ci]
          %f_n = affine.apply affine_map<()[s0, s1] -> (s0 * s1 * 9)>()[%ci, %co]
          %out_n = affine.apply affine_map<()[s0, s1, s2] -> (s0 * s1 * s2)>()[%oh, %ow, %co]
          %in = hal.interface.binding.subspan layout(#layout_stem) binding(0) alignment(64) offset(%c0) : memref<?xf32>{%in_n}
          %filter = hal.interface.binding.subspan layout(#layout_stem) binding(1) alignment(64) offset(%c0) : memref<?xf32>{%f_n}
          %scale = hal.interface.binding.subspan layout(#layout_stem) binding(2) alignment(64) offset(%c0) : memref<?xf32>{%co}
          %shift = hal.interface.binding.subspan layout(#layout_stem) binding(3) alignment(64) offset(%c0) : memref<?xf32>{%co}
          %out = hal.interface.binding.subspan layout(#layout_stem) binding(4) alignment(64) offset(%c0) : memref<?xf32>{%out_n}
          %wg = hal.interface.workgroup.id[0] : index
          %row = affine.apply affine_map<()[s0] -> (s0 * 2)>()[%wg]
          func.call @conv3x3_s2_bn_relu6_nchw_nhwc(%in, %filter, %scale, %shift, %out, %h, %w, %ci, %co, %oh, %ow, %row, %c2) : (memref<?xf32>, memref<?xf32>, memref<?xf32>, memref<?xf32>, memref<?xf32>, index, index, index, index, index, index, index, index) -> ()
          return
        }
      }
      "hal.executable.source_end"() : () -> ()
  }) {sym_name = "depthwise3x3", sym_visibility = "private",
    objects = #hal.executable.objects<{
      #x86_64 = [#hal.executable.object<{path = "depthwise3x3.o"}>],
      #arm_64 = [#hal.executable.object<{path = "depthwise3x3.o"}>],
      #arm_32 = [#hal.executable.object<{path = "depthwise3x3.o"}>]
    }>} : () -> ()

  // Pass 1's outlined pad: exactly the tensor.pad it replaces.
  util.func private @depthwise3x3_pad(%x: tensor<1x1x?x?x?xf32>, %value: f32) -> tensor<1x1x?x?x?xf32> {
    %padded = tensor.pad %x low[0, 0, 1, 1, 0] high[0, 0, 1, 1, 0] {
    ^bb0(%i0: index, %i1: index, %i2: index, %i3: index, %i4: index):
      tensor.yield %value : f32
    } : tensor<1x1x?x?x?xf32> to tensor<1x1x?x?x?xf32>
    util.return %padded : tensor<1x1x?x?x?xf32>
  }

  // Pass 1's outlined expand of an NHWC tensor to the channels-last pass's 5-D form (matched
  // through a call for the same reason as the pad: its dynamic output_shape operands would have
  // to match a static expand's none).
  util.func private @depthwise3x3_expand(%x: tensor<1x?x?x?xf32>) -> tensor<1x1x?x?x?xf32> {
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c3 = arith.constant 3 : index
    %h = tensor.dim %x, %c1 : tensor<1x?x?x?xf32>
    %w = tensor.dim %x, %c2 : tensor<1x?x?x?xf32>
    %c = tensor.dim %x, %c3 : tensor<1x?x?x?xf32>
    %e = tensor.expand_shape %x [[0], [1, 2], [3], [4]] output_shape [1, 1, %h, %w, %c] : tensor<1x?x?x?xf32> into tensor<1x1x?x?x?xf32>
    util.return %e : tensor<1x1x?x?x?xf32>
  }

  // Unpadded NHWC input [1, 1, h, w, c], filter [c, 3, 3] -> the NCHW result [1, c, oh, ow] the
  // replaced convolution gave (the transpose back to NHWC cancels against the one the
  // channels-last pass put after the convolution's consumers). Inlined where it is called.
  util.func private @depthwise3x3_s1_call(%x: tensor<1x1x?x?x?xf32>, %filter: tensor<?x3x3xf32>) -> tensor<1x?x?x?xf32> {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c3 = arith.constant 3 : index
    %in = tensor.collapse_shape %x [[0, 1], [2], [3], [4]] : tensor<1x1x?x?x?xf32> into tensor<1x?x?x?xf32>
    %h = tensor.dim %in, %c1 : tensor<1x?x?x?xf32>
    %w = tensor.dim %in, %c2 : tensor<1x?x?x?xf32>
    %c = tensor.dim %in, %c3 : tensor<1x?x?x?xf32>
    %oh = arith.addi %h, %c0 : index
    %ow = arith.addi %w, %c0 : index
    %fe = tensor.empty(%c) : tensor<3x3x?xf32>
    %ft = linalg.transpose ins(%filter : tensor<?x3x3xf32>) outs(%fe : tensor<3x3x?xf32>) permutation = [1, 2, 0]
    %h_i32 = arith.index_cast %h : index to i32
    %w_i32 = arith.index_cast %w : index to i32
    %c_i32 = arith.index_cast %c : index to i32
    %oh_i32 = arith.index_cast %oh : index to i32
    %ow_i32 = arith.index_cast %ow : index to i32
    %nhwc = flow.dispatch @depthwise3x3::@s1[%oh](%h_i32, %w_i32, %c_i32, %oh_i32, %ow_i32, %in, %ft)
        : (i32, i32, i32, i32, i32, tensor<1x?x?x?xf32>{%h, %w, %c}, tensor<3x3x?xf32>{%c}) -> tensor<1x?x?x?xf32>{%oh, %ow, %c}
    %oe = tensor.empty(%c, %oh, %ow) : tensor<1x?x?x?xf32>
    %nchw = linalg.transpose ins(%nhwc : tensor<1x?x?x?xf32>) outs(%oe : tensor<1x?x?x?xf32>) permutation = [0, 3, 1, 2]
    util.return %nchw : tensor<1x?x?x?xf32>
  }

  // Unpadded NHWC input [1, 1, h, w, c], filter [c, 3, 3] -> the NCHW result [1, c, oh, ow] the
  // replaced convolution gave (the transpose back to NHWC cancels against the one the
  // channels-last pass put after the convolution's consumers). Inlined where it is called.
  util.func private @depthwise3x3_s2_call(%x: tensor<1x1x?x?x?xf32>, %filter: tensor<?x3x3xf32>) -> tensor<1x?x?x?xf32> {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c3 = arith.constant 3 : index
    %in = tensor.collapse_shape %x [[0, 1], [2], [3], [4]] : tensor<1x1x?x?x?xf32> into tensor<1x?x?x?xf32>
    %h = tensor.dim %in, %c1 : tensor<1x?x?x?xf32>
    %w = tensor.dim %in, %c2 : tensor<1x?x?x?xf32>
    %c = tensor.dim %in, %c3 : tensor<1x?x?x?xf32>
    %oh = affine.apply affine_map<()[s0] -> ((s0 - 1) floordiv 2 + 1)>()[%h]
    %ow = affine.apply affine_map<()[s0] -> ((s0 - 1) floordiv 2 + 1)>()[%w]
    %fe = tensor.empty(%c) : tensor<3x3x?xf32>
    %ft = linalg.transpose ins(%filter : tensor<?x3x3xf32>) outs(%fe : tensor<3x3x?xf32>) permutation = [1, 2, 0]
    %h_i32 = arith.index_cast %h : index to i32
    %w_i32 = arith.index_cast %w : index to i32
    %c_i32 = arith.index_cast %c : index to i32
    %oh_i32 = arith.index_cast %oh : index to i32
    %ow_i32 = arith.index_cast %ow : index to i32
    %nhwc = flow.dispatch @depthwise3x3::@s2[%oh](%h_i32, %w_i32, %c_i32, %oh_i32, %ow_i32, %in, %ft)
        : (i32, i32, i32, i32, i32, tensor<1x?x?x?xf32>{%h, %w, %c}, tensor<3x3x?xf32>{%c}) -> tensor<1x?x?x?xf32>{%oh, %ow, %c}
    %oe = tensor.empty(%c, %oh, %ow) : tensor<1x?x?x?xf32>
    %nchw = linalg.transpose ins(%nhwc : tensor<1x?x?x?xf32>) outs(%oe : tensor<1x?x?x?xf32>) permutation = [0, 3, 1, 2]
    util.return %nchw : tensor<1x?x?x?xf32>
  }

  // Pass 1's outlined pad of an NCHW tensor by one pixel on each side of H and W.
  util.func private @depthwise3x3_pad_nchw(%x: tensor<1x?x?x?xf32>, %value: f32) -> tensor<1x?x?x?xf32> {
    %padded = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {
    ^bb0(%i0: index, %i1: index, %i2: index, %i3: index):
      tensor.yield %value : f32
    } : tensor<1x?x?x?xf32> to tensor<1x?x?x?xf32>
    util.return %padded : tensor<1x?x?x?xf32>
  }

  // Unpadded NCHW input [1, c, h, w] (the form YOLOX-nano's layers reach the pad in: the channels-last
  // pass leaves SiLU's product NCHW), filter [c, 3, 3] -> the NCHW result [1, c, oh, ow]: the input
  // transposed to NHWC for the plain entry and the result back (IREE folds each transpose into the
  // elementwise dispatch beside it: the SiLU product before, the BatchNorm after).
  util.func private @depthwise3x3_nchw_s1_call(%x: tensor<1x?x?x?xf32>, %filter: tensor<?x3x3xf32>) -> tensor<1x?x?x?xf32> {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c3 = arith.constant 3 : index
    %c = tensor.dim %x, %c1 : tensor<1x?x?x?xf32>
    %h = tensor.dim %x, %c2 : tensor<1x?x?x?xf32>
    %w = tensor.dim %x, %c3 : tensor<1x?x?x?xf32>
    %ie = tensor.empty(%h, %w, %c) : tensor<1x?x?x?xf32>
    %in = linalg.transpose ins(%x : tensor<1x?x?x?xf32>) outs(%ie : tensor<1x?x?x?xf32>) permutation = [0, 2, 3, 1]
    %oh = arith.addi %h, %c0 : index
    %ow = arith.addi %w, %c0 : index
    %fe = tensor.empty(%c) : tensor<3x3x?xf32>
    %ft = linalg.transpose ins(%filter : tensor<?x3x3xf32>) outs(%fe : tensor<3x3x?xf32>) permutation = [1, 2, 0]
    %h_i32 = arith.index_cast %h : index to i32
    %w_i32 = arith.index_cast %w : index to i32
    %c_i32 = arith.index_cast %c : index to i32
    %oh_i32 = arith.index_cast %oh : index to i32
    %ow_i32 = arith.index_cast %ow : index to i32
    %nhwc = flow.dispatch @depthwise3x3::@s1[%oh](%h_i32, %w_i32, %c_i32, %oh_i32, %ow_i32, %in, %ft)
        : (i32, i32, i32, i32, i32, tensor<1x?x?x?xf32>{%h, %w, %c}, tensor<3x3x?xf32>{%c}) -> tensor<1x?x?x?xf32>{%oh, %ow, %c}
    %oe = tensor.empty(%c, %oh, %ow) : tensor<1x?x?x?xf32>
    %nchw = linalg.transpose ins(%nhwc : tensor<1x?x?x?xf32>) outs(%oe : tensor<1x?x?x?xf32>) permutation = [0, 3, 1, 2]
    util.return %nchw : tensor<1x?x?x?xf32>
  }

  // Unpadded NCHW input [1, c, h, w] (the form YOLOX-nano's layers reach the pad in: the channels-last
  // pass leaves SiLU's product NCHW), filter [c, 3, 3] -> the NCHW result [1, c, oh, ow]: the input
  // transposed to NHWC for the plain entry and the result back (IREE folds each transpose into the
  // elementwise dispatch beside it: the SiLU product before, the BatchNorm after).
  util.func private @depthwise3x3_nchw_s2_call(%x: tensor<1x?x?x?xf32>, %filter: tensor<?x3x3xf32>) -> tensor<1x?x?x?xf32> {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c3 = arith.constant 3 : index
    %c = tensor.dim %x, %c1 : tensor<1x?x?x?xf32>
    %h = tensor.dim %x, %c2 : tensor<1x?x?x?xf32>
    %w = tensor.dim %x, %c3 : tensor<1x?x?x?xf32>
    %ie = tensor.empty(%h, %w, %c) : tensor<1x?x?x?xf32>
    %in = linalg.transpose ins(%x : tensor<1x?x?x?xf32>) outs(%ie : tensor<1x?x?x?xf32>) permutation = [0, 2, 3, 1]
    %oh = affine.apply affine_map<()[s0] -> ((s0 - 1) floordiv 2 + 1)>()[%h]
    %ow = affine.apply affine_map<()[s0] -> ((s0 - 1) floordiv 2 + 1)>()[%w]
    %fe = tensor.empty(%c) : tensor<3x3x?xf32>
    %ft = linalg.transpose ins(%filter : tensor<?x3x3xf32>) outs(%fe : tensor<3x3x?xf32>) permutation = [1, 2, 0]
    %h_i32 = arith.index_cast %h : index to i32
    %w_i32 = arith.index_cast %w : index to i32
    %c_i32 = arith.index_cast %c : index to i32
    %oh_i32 = arith.index_cast %oh : index to i32
    %ow_i32 = arith.index_cast %ow : index to i32
    %nhwc = flow.dispatch @depthwise3x3::@s2[%oh](%h_i32, %w_i32, %c_i32, %oh_i32, %ow_i32, %in, %ft)
        : (i32, i32, i32, i32, i32, tensor<1x?x?x?xf32>{%h, %w, %c}, tensor<3x3x?xf32>{%c}) -> tensor<1x?x?x?xf32>{%oh, %ow, %c}
    %oe = tensor.empty(%c, %oh, %ow) : tensor<1x?x?x?xf32>
    %nchw = linalg.transpose ins(%nhwc : tensor<1x?x?x?xf32>) outs(%oe : tensor<1x?x?x?xf32>) permutation = [0, 3, 1, 2]
    util.return %nchw : tensor<1x?x?x?xf32>
  }

  // Pass 1's outlined pad of an NCHW tensor by two pixels on each side of H and W (a 5x5 window's).
  util.func private @depthwise5x5_pad_nchw(%x: tensor<1x?x?x?xf32>, %value: f32) -> tensor<1x?x?x?xf32> {
    %padded = tensor.pad %x low[0, 0, 2, 2] high[0, 0, 2, 2] {
    ^bb0(%i0: index, %i1: index, %i2: index, %i3: index):
      tensor.yield %value : f32
    } : tensor<1x?x?x?xf32> to tensor<1x?x?x?xf32>
    util.return %padded : tensor<1x?x?x?xf32>
  }

  // The 5x5 form of @depthwise3x3_nchw_s1_call: unpadded NCHW input [1, c, h, w] (MobileNetV3-small's
  // after its hardswish), filter [c, 5, 5] -> NCHW [1, c, oh, ow], the kernel's 5x5 entry between transposes.
  util.func private @depthwise5x5_nchw_s1_call(%x: tensor<1x?x?x?xf32>, %filter: tensor<?x5x5xf32>) -> tensor<1x?x?x?xf32> {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c3 = arith.constant 3 : index
    %c = tensor.dim %x, %c1 : tensor<1x?x?x?xf32>
    %h = tensor.dim %x, %c2 : tensor<1x?x?x?xf32>
    %w = tensor.dim %x, %c3 : tensor<1x?x?x?xf32>
    %ie = tensor.empty(%h, %w, %c) : tensor<1x?x?x?xf32>
    %in = linalg.transpose ins(%x : tensor<1x?x?x?xf32>) outs(%ie : tensor<1x?x?x?xf32>) permutation = [0, 2, 3, 1]
    %oh = arith.addi %h, %c0 : index
    %ow = arith.addi %w, %c0 : index
    %fe = tensor.empty(%c) : tensor<5x5x?xf32>
    %ft = linalg.transpose ins(%filter : tensor<?x5x5xf32>) outs(%fe : tensor<5x5x?xf32>) permutation = [1, 2, 0]
    %h_i32 = arith.index_cast %h : index to i32
    %w_i32 = arith.index_cast %w : index to i32
    %c_i32 = arith.index_cast %c : index to i32
    %oh_i32 = arith.index_cast %oh : index to i32
    %ow_i32 = arith.index_cast %ow : index to i32
    %nhwc = flow.dispatch @depthwise3x3::@s1_k5[%oh](%h_i32, %w_i32, %c_i32, %oh_i32, %ow_i32, %in, %ft)
        : (i32, i32, i32, i32, i32, tensor<1x?x?x?xf32>{%h, %w, %c}, tensor<5x5x?xf32>{%c}) -> tensor<1x?x?x?xf32>{%oh, %ow, %c}
    %oe = tensor.empty(%c, %oh, %ow) : tensor<1x?x?x?xf32>
    %nchw = linalg.transpose ins(%nhwc : tensor<1x?x?x?xf32>) outs(%oe : tensor<1x?x?x?xf32>) permutation = [0, 3, 1, 2]
    util.return %nchw : tensor<1x?x?x?xf32>
  }

  // The 5x5 form of @depthwise3x3_nchw_s2_call: unpadded NCHW input [1, c, h, w] (MobileNetV3-small's
  // after its hardswish), filter [c, 5, 5] -> NCHW [1, c, oh, ow], the kernel's 5x5 entry between transposes.
  util.func private @depthwise5x5_nchw_s2_call(%x: tensor<1x?x?x?xf32>, %filter: tensor<?x5x5xf32>) -> tensor<1x?x?x?xf32> {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c3 = arith.constant 3 : index
    %c = tensor.dim %x, %c1 : tensor<1x?x?x?xf32>
    %h = tensor.dim %x, %c2 : tensor<1x?x?x?xf32>
    %w = tensor.dim %x, %c3 : tensor<1x?x?x?xf32>
    %ie = tensor.empty(%h, %w, %c) : tensor<1x?x?x?xf32>
    %in = linalg.transpose ins(%x : tensor<1x?x?x?xf32>) outs(%ie : tensor<1x?x?x?xf32>) permutation = [0, 2, 3, 1]
    %oh = affine.apply affine_map<()[s0] -> ((s0 - 1) floordiv 2 + 1)>()[%h]
    %ow = affine.apply affine_map<()[s0] -> ((s0 - 1) floordiv 2 + 1)>()[%w]
    %fe = tensor.empty(%c) : tensor<5x5x?xf32>
    %ft = linalg.transpose ins(%filter : tensor<?x5x5xf32>) outs(%fe : tensor<5x5x?xf32>) permutation = [1, 2, 0]
    %h_i32 = arith.index_cast %h : index to i32
    %w_i32 = arith.index_cast %w : index to i32
    %c_i32 = arith.index_cast %c : index to i32
    %oh_i32 = arith.index_cast %oh : index to i32
    %ow_i32 = arith.index_cast %ow : index to i32
    %nhwc = flow.dispatch @depthwise3x3::@s2_k5[%oh](%h_i32, %w_i32, %c_i32, %oh_i32, %ow_i32, %in, %ft)
        : (i32, i32, i32, i32, i32, tensor<1x?x?x?xf32>{%h, %w, %c}, tensor<5x5x?xf32>{%c}) -> tensor<1x?x?x?xf32>{%oh, %ow, %c}
    %oe = tensor.empty(%c, %oh, %ow) : tensor<1x?x?x?xf32>
    %nchw = linalg.transpose ins(%nhwc : tensor<1x?x?x?xf32>) outs(%oe : tensor<1x?x?x?xf32>) permutation = [0, 3, 1, 2]
    util.return %nchw : tensor<1x?x?x?xf32>
  }

  // The same with the BatchNorm and ReLU6 after it: per-channel scale = invstd * weight and
  // shift = bias - mean * scale (constants: IREE folds them at compile time); the NHWC result
  // goes straight to the ReLU6's consumers ([1, 1, oh, ow, c], no transposes).
  util.func private @depthwise3x3_bn_relu6_s1_call(%x: tensor<1x1x?x?x?xf32>, %filter: tensor<?x3x3xf32>, %mean: tensor<?x1x1xf32>, %invstd: tensor<?x1x1xf32>, %weight: tensor<?x1x1xf32>, %bias: tensor<?x1x1xf32>) -> tensor<1x1x?x?x?xf32> {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c3 = arith.constant 3 : index
    %in = tensor.collapse_shape %x [[0, 1], [2], [3], [4]] : tensor<1x1x?x?x?xf32> into tensor<1x?x?x?xf32>
    %h = tensor.dim %in, %c1 : tensor<1x?x?x?xf32>
    %w = tensor.dim %in, %c2 : tensor<1x?x?x?xf32>
    %c = tensor.dim %in, %c3 : tensor<1x?x?x?xf32>
    %oh = arith.addi %h, %c0 : index
    %ow = arith.addi %w, %c0 : index
    %fe = tensor.empty(%c) : tensor<3x3x?xf32>
    %ft = linalg.transpose ins(%filter : tensor<?x3x3xf32>) outs(%fe : tensor<3x3x?xf32>) permutation = [1, 2, 0]
    %m = tensor.collapse_shape %mean [[0, 1, 2]] : tensor<?x1x1xf32> into tensor<?xf32>
    %i = tensor.collapse_shape %invstd [[0, 1, 2]] : tensor<?x1x1xf32> into tensor<?xf32>
    %g = tensor.collapse_shape %weight [[0, 1, 2]] : tensor<?x1x1xf32> into tensor<?xf32>
    %b = tensor.collapse_shape %bias [[0, 1, 2]] : tensor<?x1x1xf32> into tensor<?xf32>
    %ve = tensor.empty(%c) : tensor<?xf32>
    %scale = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%i, %g : tensor<?xf32>, tensor<?xf32>) outs(%ve : tensor<?xf32>) {
    ^bb0(%a0: f32, %a1: f32, %o: f32):
      %r = arith.mulf %a0, %a1 : f32
      linalg.yield %r : f32
    } -> tensor<?xf32>
    %shift = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%b, %m, %scale : tensor<?xf32>, tensor<?xf32>, tensor<?xf32>) outs(%ve : tensor<?xf32>) {
    ^bb0(%a0: f32, %a1: f32, %a2: f32, %o: f32):
      %p = arith.mulf %a1, %a2 : f32
      %r = arith.subf %a0, %p : f32
      linalg.yield %r : f32
    } -> tensor<?xf32>
    %h_i32 = arith.index_cast %h : index to i32
    %w_i32 = arith.index_cast %w : index to i32
    %c_i32 = arith.index_cast %c : index to i32
    %oh_i32 = arith.index_cast %oh : index to i32
    %ow_i32 = arith.index_cast %ow : index to i32
    %nhwc = flow.dispatch @depthwise3x3::@s1_bn[%oh](%h_i32, %w_i32, %c_i32, %oh_i32, %ow_i32, %in, %ft, %scale, %shift)
        : (i32, i32, i32, i32, i32, tensor<1x?x?x?xf32>{%h, %w, %c}, tensor<3x3x?xf32>{%c}, tensor<?xf32>{%c}, tensor<?xf32>{%c}) -> tensor<1x?x?x?xf32>{%oh, %ow, %c}
    %out = tensor.expand_shape %nhwc [[0, 1], [2], [3], [4]] output_shape [1, 1, %oh, %ow, %c] : tensor<1x?x?x?xf32> into tensor<1x1x?x?x?xf32>
    util.return %out : tensor<1x1x?x?x?xf32>
  }

  // The same with the BatchNorm and ReLU6 after it: per-channel scale = invstd * weight and
  // shift = bias - mean * scale (constants: IREE folds them at compile time); the NHWC result
  // goes straight to the ReLU6's consumers ([1, 1, oh, ow, c], no transposes).
  util.func private @depthwise3x3_bn_relu6_s2_call(%x: tensor<1x1x?x?x?xf32>, %filter: tensor<?x3x3xf32>, %mean: tensor<?x1x1xf32>, %invstd: tensor<?x1x1xf32>, %weight: tensor<?x1x1xf32>, %bias: tensor<?x1x1xf32>) -> tensor<1x1x?x?x?xf32> {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c3 = arith.constant 3 : index
    %in = tensor.collapse_shape %x [[0, 1], [2], [3], [4]] : tensor<1x1x?x?x?xf32> into tensor<1x?x?x?xf32>
    %h = tensor.dim %in, %c1 : tensor<1x?x?x?xf32>
    %w = tensor.dim %in, %c2 : tensor<1x?x?x?xf32>
    %c = tensor.dim %in, %c3 : tensor<1x?x?x?xf32>
    %oh = affine.apply affine_map<()[s0] -> ((s0 - 1) floordiv 2 + 1)>()[%h]
    %ow = affine.apply affine_map<()[s0] -> ((s0 - 1) floordiv 2 + 1)>()[%w]
    %fe = tensor.empty(%c) : tensor<3x3x?xf32>
    %ft = linalg.transpose ins(%filter : tensor<?x3x3xf32>) outs(%fe : tensor<3x3x?xf32>) permutation = [1, 2, 0]
    %m = tensor.collapse_shape %mean [[0, 1, 2]] : tensor<?x1x1xf32> into tensor<?xf32>
    %i = tensor.collapse_shape %invstd [[0, 1, 2]] : tensor<?x1x1xf32> into tensor<?xf32>
    %g = tensor.collapse_shape %weight [[0, 1, 2]] : tensor<?x1x1xf32> into tensor<?xf32>
    %b = tensor.collapse_shape %bias [[0, 1, 2]] : tensor<?x1x1xf32> into tensor<?xf32>
    %ve = tensor.empty(%c) : tensor<?xf32>
    %scale = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%i, %g : tensor<?xf32>, tensor<?xf32>) outs(%ve : tensor<?xf32>) {
    ^bb0(%a0: f32, %a1: f32, %o: f32):
      %r = arith.mulf %a0, %a1 : f32
      linalg.yield %r : f32
    } -> tensor<?xf32>
    %shift = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%b, %m, %scale : tensor<?xf32>, tensor<?xf32>, tensor<?xf32>) outs(%ve : tensor<?xf32>) {
    ^bb0(%a0: f32, %a1: f32, %a2: f32, %o: f32):
      %p = arith.mulf %a1, %a2 : f32
      %r = arith.subf %a0, %p : f32
      linalg.yield %r : f32
    } -> tensor<?xf32>
    %h_i32 = arith.index_cast %h : index to i32
    %w_i32 = arith.index_cast %w : index to i32
    %c_i32 = arith.index_cast %c : index to i32
    %oh_i32 = arith.index_cast %oh : index to i32
    %ow_i32 = arith.index_cast %ow : index to i32
    %nhwc = flow.dispatch @depthwise3x3::@s2_bn[%oh](%h_i32, %w_i32, %c_i32, %oh_i32, %ow_i32, %in, %ft, %scale, %shift)
        : (i32, i32, i32, i32, i32, tensor<1x?x?x?xf32>{%h, %w, %c}, tensor<3x3x?xf32>{%c}, tensor<?xf32>{%c}, tensor<?xf32>{%c}) -> tensor<1x?x?x?xf32>{%oh, %ow, %c}
    %out = tensor.expand_shape %nhwc [[0, 1], [2], [3], [4]] output_shape [1, 1, %oh, %ow, %c] : tensor<1x?x?x?xf32> into tensor<1x1x?x?x?xf32>
    util.return %out : tensor<1x1x?x?x?xf32>
  }

  // Pass 2a, stride 1: pass 2's convolution followed by an inference BatchNorm
  // ((x - mean) * invstd * weight + bias, NCHW), max(x, 0), the transpose back to NHWC and
  // min(x, 6): PyTorch's Conv2d + BatchNorm2d + ReLU6 after the channels-last pass.
  transform.named_sequence @match_bn_relu6_s1(%root: !transform.any_op {transform.readonly}) -> (!transform.any_value, !transform.any_value) {
    %ins, %outs = transform.iree.match.cast_compatible_dag_from_root %root {
      ^bb0(%x: tensor<1x1x?x?x?xf32>, %filter: tensor<?x3x3xf32>, %mean: tensor<?x1x1xf32>, %invstd: tensor<?x1x1xf32>, %weight: tensor<?x1x1xf32>, %bias: tensor<?x1x1xf32>):
        %zero = arith.constant 0.000000e+00 : f32
        %xc = tensor.cast %x : tensor<1x1x?x?x?xf32> to tensor<1x1x?x?x?xf32>
        %call = "util.call"(%xc, %zero) <{callee = @depthwise3x3_pad}> : (tensor<1x1x?x?x?xf32>, f32) -> tensor<1x1x?x?x?xf32>
        %padded = tensor.cast %call : tensor<1x1x?x?x?xf32> to tensor<1x1x?x?x?xf32>
        %in = tensor.collapse_shape %padded [[0], [1, 2], [3], [4]] : tensor<1x1x?x?x?xf32> into tensor<1x?x?x?xf32>
        %c1 = arith.constant 1 : index
        %c2 = arith.constant 2 : index
        %c3 = arith.constant 3 : index
        %d1 = tensor.dim %in, %c1 : tensor<1x?x?x?xf32>
        %d2 = tensor.dim %in, %c2 : tensor<1x?x?x?xf32>
        %d3 = tensor.dim %in, %c3 : tensor<1x?x?x?xf32>
        %te = tensor.empty(%d3, %d1, %d2) {"match.operation_name_only"} : tensor<1x?x?x?xf32>
        %nchw = linalg.transpose ins(%in : tensor<1x?x?x?xf32>) outs(%te : tensor<1x?x?x?xf32>) permutation = [0, 3, 1, 2]
        %oe = tensor.empty(%d3, %d1, %d2) {"match.operation_name_only"} : tensor<1x?x?x?xf32>
        %fill = linalg.fill ins(%zero : f32) outs(%oe : tensor<1x?x?x?xf32>) -> tensor<1x?x?x?xf32>
        %conv = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>}
            ins(%nchw, %filter : tensor<1x?x?x?xf32>, tensor<?x3x3xf32>) outs(%fill : tensor<1x?x?x?xf32>) -> tensor<1x?x?x?xf32>
        %ge = tensor.empty(%d3, %d1, %d2) {"match.operation_name_only"} : tensor<1x?x?x?xf32>
        %sub = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%conv, %mean : tensor<1x?x?x?xf32>, tensor<?x1x1xf32>) outs(%ge : tensor<1x?x?x?xf32>) {
        ^bb0(%e0: f32, %e1: f32, %eo: f32):
          %r = arith.subf %e0, %e1 : f32
          linalg.yield %r : f32
        } -> tensor<1x?x?x?xf32>
        %mul1 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%sub, %invstd : tensor<1x?x?x?xf32>, tensor<?x1x1xf32>) outs(%ge : tensor<1x?x?x?xf32>) {
        ^bb0(%e0: f32, %e1: f32, %eo: f32):
          %r = arith.mulf %e0, %e1 : f32
          linalg.yield %r : f32
        } -> tensor<1x?x?x?xf32>
        %mul2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%mul1, %weight : tensor<1x?x?x?xf32>, tensor<?x1x1xf32>) outs(%ge : tensor<1x?x?x?xf32>) {
        ^bb0(%e0: f32, %e1: f32, %eo: f32):
          %r = arith.mulf %e0, %e1 : f32
          linalg.yield %r : f32
        } -> tensor<1x?x?x?xf32>
        %add = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%mul2, %bias : tensor<1x?x?x?xf32>, tensor<?x1x1xf32>) outs(%ge : tensor<1x?x?x?xf32>) {
        ^bb0(%e0: f32, %e1: f32, %eo: f32):
          %r = arith.addf %e0, %e1 : f32
          linalg.yield %r : f32
        } -> tensor<1x?x?x?xf32>
        %zt = arith.constant dense<0.000000e+00> : tensor<f32>
        %relu = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> ()>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%add, %zt : tensor<1x?x?x?xf32>, tensor<f32>) outs(%ge : tensor<1x?x?x?xf32>) {
        ^bb0(%e0: f32, %e1: f32, %eo: f32):
          %p = arith.cmpf ogt, %e0, %e1 : f32
          %r = arith.select %p, %e0, %e1 : f32
          linalg.yield %r : f32
        } -> tensor<1x?x?x?xf32>
        %he = tensor.empty(%d1, %d2, %d3) {"match.operation_name_only"} : tensor<1x?x?x?xf32>
        %nhwc = linalg.transpose ins(%relu : tensor<1x?x?x?xf32>) outs(%he : tensor<1x?x?x?xf32>) permutation = [0, 2, 3, 1]
        %nc = tensor.cast %nhwc : tensor<1x?x?x?xf32> to tensor<1x?x?x?xf32>
        %exc = "util.call"(%nc) <{callee = @depthwise3x3_expand}> : (tensor<1x?x?x?xf32>) -> tensor<1x1x?x?x?xf32>
        %ex = tensor.cast %exc : tensor<1x1x?x?x?xf32> to tensor<1x1x?x?x?xf32>
        %six = arith.constant dense<6.000000e+00> : tensor<f32>
        %ee = tensor.empty(%d1, %d2, %d3) {"match.operation_name_only"} : tensor<1x1x?x?x?xf32>
        %relu6 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> ()>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%six, %ex : tensor<f32>, tensor<1x1x?x?x?xf32>) outs(%ee : tensor<1x1x?x?x?xf32>) {
        ^bb0(%e0: f32, %e1: f32, %eo: f32):
          %p = arith.cmpf olt, %e0, %e1 : f32
          %r = arith.select %p, %e0, %e1 : f32
          linalg.yield %r : f32
        } -> tensor<1x1x?x?x?xf32>
    } : (!transform.any_op) -> (!transform.any_value, !transform.any_value)
    transform.yield %ins, %outs : !transform.any_value, !transform.any_value
  }

  transform.named_sequence @call_bn_relu6_s1(%ins: !transform.any_value {transform.readonly}, %out: !transform.any_value {transform.readonly}) {
    %root = transform.get_defining_op %out : (!transform.any_value) -> !transform.any_op
    %module = transform.util.get_nearest_symbol_table %root : (!transform.any_op) -> !transform.any_op
    %executable = transform.util.import_symbol @depthwise3x3 into %module if undefined : (!transform.any_op) -> !transform.any_op
    %func = transform.util.import_symbol @depthwise3x3_bn_relu6_s1_call into %module if undefined : (!transform.any_op) -> !transform.any_op
    %call = transform.util.cast_and_call %func(%ins) -> %out after %root {
      transform.type_conversion.tensor.cast_shape_dynamic_dims
    } : (!transform.any_op, !transform.any_value, !transform.any_value, !transform.any_op) -> !transform.any_op
    transform.yield
  }

  // Pass 2a, stride 2: pass 2's convolution followed by an inference BatchNorm
  // ((x - mean) * invstd * weight + bias, NCHW), max(x, 0), the transpose back to NHWC and
  // min(x, 6): PyTorch's Conv2d + BatchNorm2d + ReLU6 after the channels-last pass.
  transform.named_sequence @match_bn_relu6_s2(%root: !transform.any_op {transform.readonly}) -> (!transform.any_value, !transform.any_value) {
    %ins, %outs = transform.iree.match.cast_compatible_dag_from_root %root {
      ^bb0(%x: tensor<1x1x?x?x?xf32>, %filter: tensor<?x3x3xf32>, %mean: tensor<?x1x1xf32>, %invstd: tensor<?x1x1xf32>, %weight: tensor<?x1x1xf32>, %bias: tensor<?x1x1xf32>):
        %zero = arith.constant 0.000000e+00 : f32
        %xc = tensor.cast %x : tensor<1x1x?x?x?xf32> to tensor<1x1x?x?x?xf32>
        %call = "util.call"(%xc, %zero) <{callee = @depthwise3x3_pad}> : (tensor<1x1x?x?x?xf32>, f32) -> tensor<1x1x?x?x?xf32>
        %padded = tensor.cast %call : tensor<1x1x?x?x?xf32> to tensor<1x1x?x?x?xf32>
        %in = tensor.collapse_shape %padded [[0], [1, 2], [3], [4]] : tensor<1x1x?x?x?xf32> into tensor<1x?x?x?xf32>
        %c1 = arith.constant 1 : index
        %c2 = arith.constant 2 : index
        %c3 = arith.constant 3 : index
        %d1 = tensor.dim %in, %c1 : tensor<1x?x?x?xf32>
        %d2 = tensor.dim %in, %c2 : tensor<1x?x?x?xf32>
        %d3 = tensor.dim %in, %c3 : tensor<1x?x?x?xf32>
        %te = tensor.empty(%d3, %d1, %d2) {"match.operation_name_only"} : tensor<1x?x?x?xf32>
        %nchw = linalg.transpose ins(%in : tensor<1x?x?x?xf32>) outs(%te : tensor<1x?x?x?xf32>) permutation = [0, 3, 1, 2]
        %oe = tensor.empty(%d3, %d1, %d2) {"match.operation_name_only"} : tensor<1x?x?x?xf32>
        %fill = linalg.fill ins(%zero : f32) outs(%oe : tensor<1x?x?x?xf32>) -> tensor<1x?x?x?xf32>
        %conv = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>}
            ins(%nchw, %filter : tensor<1x?x?x?xf32>, tensor<?x3x3xf32>) outs(%fill : tensor<1x?x?x?xf32>) -> tensor<1x?x?x?xf32>
        %ge = tensor.empty(%d3, %d1, %d2) {"match.operation_name_only"} : tensor<1x?x?x?xf32>
        %sub = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%conv, %mean : tensor<1x?x?x?xf32>, tensor<?x1x1xf32>) outs(%ge : tensor<1x?x?x?xf32>) {
        ^bb0(%e0: f32, %e1: f32, %eo: f32):
          %r = arith.subf %e0, %e1 : f32
          linalg.yield %r : f32
        } -> tensor<1x?x?x?xf32>
        %mul1 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%sub, %invstd : tensor<1x?x?x?xf32>, tensor<?x1x1xf32>) outs(%ge : tensor<1x?x?x?xf32>) {
        ^bb0(%e0: f32, %e1: f32, %eo: f32):
          %r = arith.mulf %e0, %e1 : f32
          linalg.yield %r : f32
        } -> tensor<1x?x?x?xf32>
        %mul2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%mul1, %weight : tensor<1x?x?x?xf32>, tensor<?x1x1xf32>) outs(%ge : tensor<1x?x?x?xf32>) {
        ^bb0(%e0: f32, %e1: f32, %eo: f32):
          %r = arith.mulf %e0, %e1 : f32
          linalg.yield %r : f32
        } -> tensor<1x?x?x?xf32>
        %add = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%mul2, %bias : tensor<1x?x?x?xf32>, tensor<?x1x1xf32>) outs(%ge : tensor<1x?x?x?xf32>) {
        ^bb0(%e0: f32, %e1: f32, %eo: f32):
          %r = arith.addf %e0, %e1 : f32
          linalg.yield %r : f32
        } -> tensor<1x?x?x?xf32>
        %zt = arith.constant dense<0.000000e+00> : tensor<f32>
        %relu = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> ()>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%add, %zt : tensor<1x?x?x?xf32>, tensor<f32>) outs(%ge : tensor<1x?x?x?xf32>) {
        ^bb0(%e0: f32, %e1: f32, %eo: f32):
          %p = arith.cmpf ogt, %e0, %e1 : f32
          %r = arith.select %p, %e0, %e1 : f32
          linalg.yield %r : f32
        } -> tensor<1x?x?x?xf32>
        %he = tensor.empty(%d1, %d2, %d3) {"match.operation_name_only"} : tensor<1x?x?x?xf32>
        %nhwc = linalg.transpose ins(%relu : tensor<1x?x?x?xf32>) outs(%he : tensor<1x?x?x?xf32>) permutation = [0, 2, 3, 1]
        %nc = tensor.cast %nhwc : tensor<1x?x?x?xf32> to tensor<1x?x?x?xf32>
        %exc = "util.call"(%nc) <{callee = @depthwise3x3_expand}> : (tensor<1x?x?x?xf32>) -> tensor<1x1x?x?x?xf32>
        %ex = tensor.cast %exc : tensor<1x1x?x?x?xf32> to tensor<1x1x?x?x?xf32>
        %six = arith.constant dense<6.000000e+00> : tensor<f32>
        %ee = tensor.empty(%d1, %d2, %d3) {"match.operation_name_only"} : tensor<1x1x?x?x?xf32>
        %relu6 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> ()>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%six, %ex : tensor<f32>, tensor<1x1x?x?x?xf32>) outs(%ee : tensor<1x1x?x?x?xf32>) {
        ^bb0(%e0: f32, %e1: f32, %eo: f32):
          %p = arith.cmpf olt, %e0, %e1 : f32
          %r = arith.select %p, %e0, %e1 : f32
          linalg.yield %r : f32
        } -> tensor<1x1x?x?x?xf32>
    } : (!transform.any_op) -> (!transform.any_value, !transform.any_value)
    transform.yield %ins, %outs : !transform.any_value, !transform.any_value
  }

  transform.named_sequence @call_bn_relu6_s2(%ins: !transform.any_value {transform.readonly}, %out: !transform.any_value {transform.readonly}) {
    %root = transform.get_defining_op %out : (!transform.any_value) -> !transform.any_op
    %module = transform.util.get_nearest_symbol_table %root : (!transform.any_op) -> !transform.any_op
    %executable = transform.util.import_symbol @depthwise3x3 into %module if undefined : (!transform.any_op) -> !transform.any_op
    %func = transform.util.import_symbol @depthwise3x3_bn_relu6_s2_call into %module if undefined : (!transform.any_op) -> !transform.any_op
    %call = transform.util.cast_and_call %func(%ins) -> %out after %root {
      transform.type_conversion.tensor.cast_shape_dynamic_dims
    } : (!transform.any_op, !transform.any_value, !transform.any_value, !transform.any_op) -> !transform.any_op
    transform.yield
  }

  // The stem's replacement: NCHW input [1, cin, h, w], filter [3, 3, cin, cout], the
  // BatchNorm's vectors [1, 1, 1, cout] -> the ReLU6's NHWC result [1, 1, oh, ow, cout].
  util.func private @conv3x3_s2_bn_relu6_call(%x: tensor<1x?x?x?xf32>, %filter: tensor<3x3x?x?xf32>, %mean: tensor<1x1x1x?xf32>, %invstd: tensor<1x1x1x?xf32>, %weight: tensor<1x1x1x?xf32>, %bias: tensor<1x1x1x?xf32>) -> tensor<1x1x?x?x?xf32> {
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c3 = arith.constant 3 : index
    %ci = tensor.dim %x, %c1 : tensor<1x?x?x?xf32>
    %h = tensor.dim %x, %c2 : tensor<1x?x?x?xf32>
    %w = tensor.dim %x, %c3 : tensor<1x?x?x?xf32>
    %co = tensor.dim %filter, %c3 : tensor<3x3x?x?xf32>
    %oh = affine.apply affine_map<()[s0] -> ((s0 - 1) floordiv 2 + 1)>()[%h]
    %ow = affine.apply affine_map<()[s0] -> ((s0 - 1) floordiv 2 + 1)>()[%w]
    %m = tensor.collapse_shape %mean [[0, 1, 2, 3]] : tensor<1x1x1x?xf32> into tensor<?xf32>
    %i = tensor.collapse_shape %invstd [[0, 1, 2, 3]] : tensor<1x1x1x?xf32> into tensor<?xf32>
    %g = tensor.collapse_shape %weight [[0, 1, 2, 3]] : tensor<1x1x1x?xf32> into tensor<?xf32>
    %b = tensor.collapse_shape %bias [[0, 1, 2, 3]] : tensor<1x1x1x?xf32> into tensor<?xf32>
    %ve = tensor.empty(%co) : tensor<?xf32>
    %scale = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%i, %g : tensor<?xf32>, tensor<?xf32>) outs(%ve : tensor<?xf32>) {
    ^bb0(%a0: f32, %a1: f32, %o: f32):
      %r = arith.mulf %a0, %a1 : f32
      linalg.yield %r : f32
    } -> tensor<?xf32>
    %shift = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%b, %m, %scale : tensor<?xf32>, tensor<?xf32>, tensor<?xf32>) outs(%ve : tensor<?xf32>) {
    ^bb0(%a0: f32, %a1: f32, %a2: f32, %o: f32):
      %p = arith.mulf %a1, %a2 : f32
      %r = arith.subf %a0, %p : f32
      linalg.yield %r : f32
    } -> tensor<?xf32>
    %h_i32 = arith.index_cast %h : index to i32
    %w_i32 = arith.index_cast %w : index to i32
    %ci_i32 = arith.index_cast %ci : index to i32
    %co_i32 = arith.index_cast %co : index to i32
    %oh_i32 = arith.index_cast %oh : index to i32
    %ow_i32 = arith.index_cast %ow : index to i32
    %nhwc = flow.dispatch @depthwise3x3::@stem[%oh](%h_i32, %w_i32, %ci_i32, %co_i32, %oh_i32, %ow_i32, %x, %filter, %scale, %shift)
        : (i32, i32, i32, i32, i32, i32, tensor<1x?x?x?xf32>{%ci, %h, %w}, tensor<3x3x?x?xf32>{%ci, %co}, tensor<?xf32>{%co}, tensor<?xf32>{%co}) -> tensor<1x1x?x?x?xf32>{%oh, %ow, %co}
    util.return %nhwc : tensor<1x1x?x?x?xf32>
  }

  // Pass 3: the stem. The NCHW input transposed to NHWC, expanded (pass 1's call), padded by one
  // pixel (pass 1's call), linalg.conv_2d_nhwc_hwcf 3x3 stride 2, expanded back (pass 1's call),
  // then the BatchNorm ((x - mean) * invstd * weight + bias, NHWC: vectors [1, 1, 1, c]),
  // max(x, 0) and min(x, 6).
  transform.named_sequence @match_stem(%root: !transform.any_op {transform.readonly}) -> (!transform.any_value, !transform.any_value) {
    %ins, %outs = transform.iree.match.cast_compatible_dag_from_root %root {
      ^bb0(%x: tensor<1x?x?x?xf32>, %filter: tensor<3x3x?x?xf32>, %mean: tensor<1x1x1x?xf32>, %invstd: tensor<1x1x1x?xf32>, %weight: tensor<1x1x1x?xf32>, %bias: tensor<1x1x1x?xf32>):
        %zero = arith.constant 0.000000e+00 : f32
        %c1 = arith.constant 1 : index
        %c2 = arith.constant 2 : index
        %c3 = arith.constant 3 : index
        %d1 = tensor.dim %x, %c1 : tensor<1x?x?x?xf32>
        %d2 = tensor.dim %x, %c2 : tensor<1x?x?x?xf32>
        %d3 = tensor.dim %x, %c3 : tensor<1x?x?x?xf32>
        %te = tensor.empty(%d2, %d3, %d1) {"match.operation_name_only"} : tensor<1x?x?x?xf32>
        %xt = linalg.transpose ins(%x : tensor<1x?x?x?xf32>) outs(%te : tensor<1x?x?x?xf32>) permutation = [0, 2, 3, 1]
        %xtc = tensor.cast %xt : tensor<1x?x?x?xf32> to tensor<1x?x?x?xf32>
        %x5c = "util.call"(%xtc) <{callee = @depthwise3x3_expand}> : (tensor<1x?x?x?xf32>) -> tensor<1x1x?x?x?xf32>
        %x5 = tensor.cast %x5c : tensor<1x1x?x?x?xf32> to tensor<1x1x?x?x?xf32>
        %x5d = tensor.cast %x5 : tensor<1x1x?x?x?xf32> to tensor<1x1x?x?x?xf32>
        %call = "util.call"(%x5d, %zero) <{callee = @depthwise3x3_pad}> : (tensor<1x1x?x?x?xf32>, f32) -> tensor<1x1x?x?x?xf32>
        %padded = tensor.cast %call : tensor<1x1x?x?x?xf32> to tensor<1x1x?x?x?xf32>
        %in = tensor.collapse_shape %padded [[0], [1, 2], [3], [4]] : tensor<1x1x?x?x?xf32> into tensor<1x?x?x?xf32>
        %oe5 = tensor.empty(%d1, %d2, %d3) {"match.operation_name_only"} : tensor<1x1x?x?x?xf32>
        %oe = tensor.collapse_shape %oe5 [[0], [1, 2], [3], [4]] : tensor<1x1x?x?x?xf32> into tensor<1x?x?x?xf32>
        %fill = linalg.fill ins(%zero : f32) outs(%oe : tensor<1x?x?x?xf32>) -> tensor<1x?x?x?xf32>
        %conv = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>}
            ins(%in, %filter : tensor<1x?x?x?xf32>, tensor<3x3x?x?xf32>) outs(%fill : tensor<1x?x?x?xf32>) -> tensor<1x?x?x?xf32>
        %cc = tensor.cast %conv : tensor<1x?x?x?xf32> to tensor<1x?x?x?xf32>
        %c5c = "util.call"(%cc) <{callee = @depthwise3x3_expand}> : (tensor<1x?x?x?xf32>) -> tensor<1x1x?x?x?xf32>
        %c5 = tensor.cast %c5c : tensor<1x1x?x?x?xf32> to tensor<1x1x?x?x?xf32>
        %sub_e = tensor.empty(%d1, %d2, %d3) {"match.operation_name_only"} : tensor<1x1x?x?x?xf32>
        %sub = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d1, 0, 0, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%c5, %mean : tensor<1x1x?x?x?xf32>, tensor<1x1x1x?xf32>) outs(%sub_e : tensor<1x1x?x?x?xf32>) {
        ^bb0(%e0: f32, %e1: f32, %eo: f32):
          %r = arith.subf %e0, %e1 : f32
          linalg.yield %r : f32
        } -> tensor<1x1x?x?x?xf32>
        %mul1_e = tensor.empty(%d1, %d2, %d3) {"match.operation_name_only"} : tensor<1x1x?x?x?xf32>
        %mul1 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d1, 0, 0, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%sub, %invstd : tensor<1x1x?x?x?xf32>, tensor<1x1x1x?xf32>) outs(%mul1_e : tensor<1x1x?x?x?xf32>) {
        ^bb0(%e0: f32, %e1: f32, %eo: f32):
          %r = arith.mulf %e0, %e1 : f32
          linalg.yield %r : f32
        } -> tensor<1x1x?x?x?xf32>
        %mul2_e = tensor.empty(%d1, %d2, %d3) {"match.operation_name_only"} : tensor<1x1x?x?x?xf32>
        %mul2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d1, 0, 0, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%mul1, %weight : tensor<1x1x?x?x?xf32>, tensor<1x1x1x?xf32>) outs(%mul2_e : tensor<1x1x?x?x?xf32>) {
        ^bb0(%e0: f32, %e1: f32, %eo: f32):
          %r = arith.mulf %e0, %e1 : f32
          linalg.yield %r : f32
        } -> tensor<1x1x?x?x?xf32>
        %add_e = tensor.empty(%d1, %d2, %d3) {"match.operation_name_only"} : tensor<1x1x?x?x?xf32>
        %add = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d1, 0, 0, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%mul2, %bias : tensor<1x1x?x?x?xf32>, tensor<1x1x1x?xf32>) outs(%add_e : tensor<1x1x?x?x?xf32>) {
        ^bb0(%e0: f32, %e1: f32, %eo: f32):
          %r = arith.addf %e0, %e1 : f32
          linalg.yield %r : f32
        } -> tensor<1x1x?x?x?xf32>
        %zt = arith.constant dense<0.000000e+00> : tensor<f32>
        %re = tensor.empty(%d1, %d2, %d3) {"match.operation_name_only"} : tensor<1x1x?x?x?xf32>
        %relu = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> ()>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%add, %zt : tensor<1x1x?x?x?xf32>, tensor<f32>) outs(%re : tensor<1x1x?x?x?xf32>) {
        ^bb0(%e0: f32, %e1: f32, %eo: f32):
          %p = arith.cmpf ogt, %e0, %e1 : f32
          %r = arith.select %p, %e0, %e1 : f32
          linalg.yield %r : f32
        } -> tensor<1x1x?x?x?xf32>
        %six = arith.constant dense<6.000000e+00> : tensor<f32>
        %ee = tensor.empty(%d1, %d2, %d3) {"match.operation_name_only"} : tensor<1x1x?x?x?xf32>
        %relu6 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> ()>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%six, %relu : tensor<f32>, tensor<1x1x?x?x?xf32>) outs(%ee : tensor<1x1x?x?x?xf32>) {
        ^bb0(%e0: f32, %e1: f32, %eo: f32):
          %p = arith.cmpf olt, %e0, %e1 : f32
          %r = arith.select %p, %e0, %e1 : f32
          linalg.yield %r : f32
        } -> tensor<1x1x?x?x?xf32>
    } : (!transform.any_op) -> (!transform.any_value, !transform.any_value)
    transform.yield %ins, %outs : !transform.any_value, !transform.any_value
  }

  transform.named_sequence @call_stem(%ins: !transform.any_value {transform.readonly}, %out: !transform.any_value {transform.readonly}) {
    %root = transform.get_defining_op %out : (!transform.any_value) -> !transform.any_op
    %module = transform.util.get_nearest_symbol_table %root : (!transform.any_op) -> !transform.any_op
    %executable = transform.util.import_symbol @depthwise3x3 into %module if undefined : (!transform.any_op) -> !transform.any_op
    %func = transform.util.import_symbol @conv3x3_s2_bn_relu6_call into %module if undefined : (!transform.any_op) -> !transform.any_op
    %call = transform.util.cast_and_call %func(%ins) -> %out after %root {
      transform.type_conversion.tensor.cast_shape_dynamic_dims
    } : (!transform.any_op, !transform.any_value, !transform.any_value, !transform.any_op) -> !transform.any_op
    transform.yield
  }

  // Pass 2, stride 1: util.call @depthwise3x3_pad(x, 0.0), collapsed to 4-D, transposed to
  // NCHW, into linalg.depthwise_conv_2d_nchw_chw (3x3, stride 1, dilation 1) accumulating into
  // zeros.
  transform.named_sequence @match_s1(%root: !transform.any_op {transform.readonly}) -> (!transform.any_value, !transform.any_value) {
    %ins, %outs = transform.iree.match.cast_compatible_dag_from_root %root {
      ^bb0(%x: tensor<1x1x?x?x?xf32>, %filter: tensor<?x3x3xf32>):
        %zero = arith.constant 0.000000e+00 : f32
        // (pass 1's cast_and_call casts the static shapes to the function's dynamic ones and back)
        %xc = tensor.cast %x : tensor<1x1x?x?x?xf32> to tensor<1x1x?x?x?xf32>
        // (generic form: the call pass 1 builds carries no tied_operands, which the custom form adds)
        %call = "util.call"(%xc, %zero) <{callee = @depthwise3x3_pad}> : (tensor<1x1x?x?x?xf32>, f32) -> tensor<1x1x?x?x?xf32>
        %padded = tensor.cast %call : tensor<1x1x?x?x?xf32> to tensor<1x1x?x?x?xf32>
        %in = tensor.collapse_shape %padded [[0], [1, 2], [3], [4]] : tensor<1x1x?x?x?xf32> into tensor<1x?x?x?xf32>
        %c1 = arith.constant 1 : index
        %c2 = arith.constant 2 : index
        %c3 = arith.constant 3 : index
        %d1 = tensor.dim %in, %c1 : tensor<1x?x?x?xf32>
        %d2 = tensor.dim %in, %c2 : tensor<1x?x?x?xf32>
        %d3 = tensor.dim %in, %c3 : tensor<1x?x?x?xf32>
        %te = tensor.empty(%d3, %d1, %d2) {"match.operation_name_only"} : tensor<1x?x?x?xf32>
        %nchw = linalg.transpose ins(%in : tensor<1x?x?x?xf32>) outs(%te : tensor<1x?x?x?xf32>) permutation = [0, 3, 1, 2]
        %oe = tensor.empty(%d3, %d1, %d2) {"match.operation_name_only"} : tensor<1x?x?x?xf32>
        %fill = linalg.fill ins(%zero : f32) outs(%oe : tensor<1x?x?x?xf32>) -> tensor<1x?x?x?xf32>
        %conv = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>}
            ins(%nchw, %filter : tensor<1x?x?x?xf32>, tensor<?x3x3xf32>) outs(%fill : tensor<1x?x?x?xf32>) -> tensor<1x?x?x?xf32>
    } : (!transform.any_op) -> (!transform.any_value, !transform.any_value)
    transform.yield %ins, %outs : !transform.any_value, !transform.any_value
  }

  transform.named_sequence @call_s1(%ins: !transform.any_value {transform.readonly}, %out: !transform.any_value {transform.readonly}) {
    %root = transform.get_defining_op %out : (!transform.any_value) -> !transform.any_op
    %module = transform.util.get_nearest_symbol_table %root : (!transform.any_op) -> !transform.any_op
    %executable = transform.util.import_symbol @depthwise3x3 into %module if undefined : (!transform.any_op) -> !transform.any_op
    %func = transform.util.import_symbol @depthwise3x3_s1_call into %module if undefined : (!transform.any_op) -> !transform.any_op
    %call = transform.util.cast_and_call %func(%ins) -> %out after %root {
      transform.type_conversion.tensor.cast_shape_dynamic_dims
    } : (!transform.any_op, !transform.any_value, !transform.any_value, !transform.any_op) -> !transform.any_op
    transform.yield
  }

  // Pass 2, stride 2: util.call @depthwise3x3_pad(x, 0.0), collapsed to 4-D, transposed to
  // NCHW, into linalg.depthwise_conv_2d_nchw_chw (3x3, stride 2, dilation 1) accumulating into
  // zeros.
  transform.named_sequence @match_s2(%root: !transform.any_op {transform.readonly}) -> (!transform.any_value, !transform.any_value) {
    %ins, %outs = transform.iree.match.cast_compatible_dag_from_root %root {
      ^bb0(%x: tensor<1x1x?x?x?xf32>, %filter: tensor<?x3x3xf32>):
        %zero = arith.constant 0.000000e+00 : f32
        // (pass 1's cast_and_call casts the static shapes to the function's dynamic ones and back)
        %xc = tensor.cast %x : tensor<1x1x?x?x?xf32> to tensor<1x1x?x?x?xf32>
        // (generic form: the call pass 1 builds carries no tied_operands, which the custom form adds)
        %call = "util.call"(%xc, %zero) <{callee = @depthwise3x3_pad}> : (tensor<1x1x?x?x?xf32>, f32) -> tensor<1x1x?x?x?xf32>
        %padded = tensor.cast %call : tensor<1x1x?x?x?xf32> to tensor<1x1x?x?x?xf32>
        %in = tensor.collapse_shape %padded [[0], [1, 2], [3], [4]] : tensor<1x1x?x?x?xf32> into tensor<1x?x?x?xf32>
        %c1 = arith.constant 1 : index
        %c2 = arith.constant 2 : index
        %c3 = arith.constant 3 : index
        %d1 = tensor.dim %in, %c1 : tensor<1x?x?x?xf32>
        %d2 = tensor.dim %in, %c2 : tensor<1x?x?x?xf32>
        %d3 = tensor.dim %in, %c3 : tensor<1x?x?x?xf32>
        %te = tensor.empty(%d3, %d1, %d2) {"match.operation_name_only"} : tensor<1x?x?x?xf32>
        %nchw = linalg.transpose ins(%in : tensor<1x?x?x?xf32>) outs(%te : tensor<1x?x?x?xf32>) permutation = [0, 3, 1, 2]
        %oe = tensor.empty(%d3, %d1, %d2) {"match.operation_name_only"} : tensor<1x?x?x?xf32>
        %fill = linalg.fill ins(%zero : f32) outs(%oe : tensor<1x?x?x?xf32>) -> tensor<1x?x?x?xf32>
        %conv = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>}
            ins(%nchw, %filter : tensor<1x?x?x?xf32>, tensor<?x3x3xf32>) outs(%fill : tensor<1x?x?x?xf32>) -> tensor<1x?x?x?xf32>
    } : (!transform.any_op) -> (!transform.any_value, !transform.any_value)
    transform.yield %ins, %outs : !transform.any_value, !transform.any_value
  }

  transform.named_sequence @call_s2(%ins: !transform.any_value {transform.readonly}, %out: !transform.any_value {transform.readonly}) {
    %root = transform.get_defining_op %out : (!transform.any_value) -> !transform.any_op
    %module = transform.util.get_nearest_symbol_table %root : (!transform.any_op) -> !transform.any_op
    %executable = transform.util.import_symbol @depthwise3x3 into %module if undefined : (!transform.any_op) -> !transform.any_op
    %func = transform.util.import_symbol @depthwise3x3_s2_call into %module if undefined : (!transform.any_op) -> !transform.any_op
    %call = transform.util.cast_and_call %func(%ins) -> %out after %root {
      transform.type_conversion.tensor.cast_shape_dynamic_dims
    } : (!transform.any_op, !transform.any_value, !transform.any_value, !transform.any_op) -> !transform.any_op
    transform.yield
  }

  // Pass 2b, NCHW, stride 1: util.call @depthwise3x3_pad_nchw(x, 0.0) straight into
  // linalg.depthwise_conv_2d_nchw_chw (3x3, stride 1, dilation 1) accumulating into zeros:
  // YOLOX-nano's depthwise convolutions after the channels-last pass.
  transform.named_sequence @match_nchw_s1(%root: !transform.any_op {transform.readonly}) -> (!transform.any_value, !transform.any_value) {
    %ins, %outs = transform.iree.match.cast_compatible_dag_from_root %root {
      ^bb0(%x: tensor<1x?x?x?xf32>, %filter: tensor<?x3x3xf32>):
        %zero = arith.constant 0.000000e+00 : f32
        %xc = tensor.cast %x : tensor<1x?x?x?xf32> to tensor<1x?x?x?xf32>
        %call = "util.call"(%xc, %zero) <{callee = @depthwise3x3_pad_nchw}> : (tensor<1x?x?x?xf32>, f32) -> tensor<1x?x?x?xf32>
        %padded = tensor.cast %call : tensor<1x?x?x?xf32> to tensor<1x?x?x?xf32>
        %c1 = arith.constant 1 : index
        %c2 = arith.constant 2 : index
        %c3 = arith.constant 3 : index
        %d1 = tensor.dim %padded, %c1 : tensor<1x?x?x?xf32>
        %d2 = tensor.dim %padded, %c2 : tensor<1x?x?x?xf32>
        %d3 = tensor.dim %padded, %c3 : tensor<1x?x?x?xf32>
        %oe = tensor.empty(%d1, %d2, %d3) {"match.operation_name_only"} : tensor<1x?x?x?xf32>
        %fill = linalg.fill ins(%zero : f32) outs(%oe : tensor<1x?x?x?xf32>) -> tensor<1x?x?x?xf32>
        %conv = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>}
            ins(%padded, %filter : tensor<1x?x?x?xf32>, tensor<?x3x3xf32>) outs(%fill : tensor<1x?x?x?xf32>) -> tensor<1x?x?x?xf32>
    } : (!transform.any_op) -> (!transform.any_value, !transform.any_value)
    transform.yield %ins, %outs : !transform.any_value, !transform.any_value
  }

  transform.named_sequence @call_nchw_s1(%ins: !transform.any_value {transform.readonly}, %out: !transform.any_value {transform.readonly}) {
    %root = transform.get_defining_op %out : (!transform.any_value) -> !transform.any_op
    %module = transform.util.get_nearest_symbol_table %root : (!transform.any_op) -> !transform.any_op
    %executable = transform.util.import_symbol @depthwise3x3 into %module if undefined : (!transform.any_op) -> !transform.any_op
    %func = transform.util.import_symbol @depthwise3x3_nchw_s1_call into %module if undefined : (!transform.any_op) -> !transform.any_op
    %call = transform.util.cast_and_call %func(%ins) -> %out after %root {
      transform.type_conversion.tensor.cast_shape_dynamic_dims
    } : (!transform.any_op, !transform.any_value, !transform.any_value, !transform.any_op) -> !transform.any_op
    transform.yield
  }

  // Pass 2b, NCHW, stride 2: util.call @depthwise3x3_pad_nchw(x, 0.0) straight into
  // linalg.depthwise_conv_2d_nchw_chw (3x3, stride 2, dilation 1) accumulating into zeros:
  // YOLOX-nano's depthwise convolutions after the channels-last pass.
  transform.named_sequence @match_nchw_s2(%root: !transform.any_op {transform.readonly}) -> (!transform.any_value, !transform.any_value) {
    %ins, %outs = transform.iree.match.cast_compatible_dag_from_root %root {
      ^bb0(%x: tensor<1x?x?x?xf32>, %filter: tensor<?x3x3xf32>):
        %zero = arith.constant 0.000000e+00 : f32
        %xc = tensor.cast %x : tensor<1x?x?x?xf32> to tensor<1x?x?x?xf32>
        %call = "util.call"(%xc, %zero) <{callee = @depthwise3x3_pad_nchw}> : (tensor<1x?x?x?xf32>, f32) -> tensor<1x?x?x?xf32>
        %padded = tensor.cast %call : tensor<1x?x?x?xf32> to tensor<1x?x?x?xf32>
        %c1 = arith.constant 1 : index
        %c2 = arith.constant 2 : index
        %c3 = arith.constant 3 : index
        %d1 = tensor.dim %padded, %c1 : tensor<1x?x?x?xf32>
        %d2 = tensor.dim %padded, %c2 : tensor<1x?x?x?xf32>
        %d3 = tensor.dim %padded, %c3 : tensor<1x?x?x?xf32>
        %oe = tensor.empty(%d1, %d2, %d3) {"match.operation_name_only"} : tensor<1x?x?x?xf32>
        %fill = linalg.fill ins(%zero : f32) outs(%oe : tensor<1x?x?x?xf32>) -> tensor<1x?x?x?xf32>
        %conv = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>}
            ins(%padded, %filter : tensor<1x?x?x?xf32>, tensor<?x3x3xf32>) outs(%fill : tensor<1x?x?x?xf32>) -> tensor<1x?x?x?xf32>
    } : (!transform.any_op) -> (!transform.any_value, !transform.any_value)
    transform.yield %ins, %outs : !transform.any_value, !transform.any_value
  }

  transform.named_sequence @call_nchw_s2(%ins: !transform.any_value {transform.readonly}, %out: !transform.any_value {transform.readonly}) {
    %root = transform.get_defining_op %out : (!transform.any_value) -> !transform.any_op
    %module = transform.util.get_nearest_symbol_table %root : (!transform.any_op) -> !transform.any_op
    %executable = transform.util.import_symbol @depthwise3x3 into %module if undefined : (!transform.any_op) -> !transform.any_op
    %func = transform.util.import_symbol @depthwise3x3_nchw_s2_call into %module if undefined : (!transform.any_op) -> !transform.any_op
    %call = transform.util.cast_and_call %func(%ins) -> %out after %root {
      transform.type_conversion.tensor.cast_shape_dynamic_dims
    } : (!transform.any_op, !transform.any_value, !transform.any_value, !transform.any_op) -> !transform.any_op
    transform.yield
  }

  // Pass 2b, NCHW, 5x5, stride 1: util.call @depthwise5x5_pad_nchw(x, 0.0) straight into
  // linalg.depthwise_conv_2d_nchw_chw (5x5, stride 1, dilation 1) accumulating into zeros.
  transform.named_sequence @match_nchw5_s1(%root: !transform.any_op {transform.readonly}) -> (!transform.any_value, !transform.any_value) {
    %ins, %outs = transform.iree.match.cast_compatible_dag_from_root %root {
      ^bb0(%x: tensor<1x?x?x?xf32>, %filter: tensor<?x5x5xf32>):
        %zero = arith.constant 0.000000e+00 : f32
        %xc = tensor.cast %x : tensor<1x?x?x?xf32> to tensor<1x?x?x?xf32>
        %call = "util.call"(%xc, %zero) <{callee = @depthwise5x5_pad_nchw}> : (tensor<1x?x?x?xf32>, f32) -> tensor<1x?x?x?xf32>
        %padded = tensor.cast %call : tensor<1x?x?x?xf32> to tensor<1x?x?x?xf32>
        %c1 = arith.constant 1 : index
        %c2 = arith.constant 2 : index
        %c3 = arith.constant 3 : index
        %d1 = tensor.dim %padded, %c1 : tensor<1x?x?x?xf32>
        %d2 = tensor.dim %padded, %c2 : tensor<1x?x?x?xf32>
        %d3 = tensor.dim %padded, %c3 : tensor<1x?x?x?xf32>
        %oe = tensor.empty(%d1, %d2, %d3) {"match.operation_name_only"} : tensor<1x?x?x?xf32>
        %fill = linalg.fill ins(%zero : f32) outs(%oe : tensor<1x?x?x?xf32>) -> tensor<1x?x?x?xf32>
        %conv = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>}
            ins(%padded, %filter : tensor<1x?x?x?xf32>, tensor<?x5x5xf32>) outs(%fill : tensor<1x?x?x?xf32>) -> tensor<1x?x?x?xf32>
    } : (!transform.any_op) -> (!transform.any_value, !transform.any_value)
    transform.yield %ins, %outs : !transform.any_value, !transform.any_value
  }

  transform.named_sequence @call_nchw5_s1(%ins: !transform.any_value {transform.readonly}, %out: !transform.any_value {transform.readonly}) {
    %root = transform.get_defining_op %out : (!transform.any_value) -> !transform.any_op
    %module = transform.util.get_nearest_symbol_table %root : (!transform.any_op) -> !transform.any_op
    %executable = transform.util.import_symbol @depthwise3x3 into %module if undefined : (!transform.any_op) -> !transform.any_op
    %func = transform.util.import_symbol @depthwise5x5_nchw_s1_call into %module if undefined : (!transform.any_op) -> !transform.any_op
    %call = transform.util.cast_and_call %func(%ins) -> %out after %root {
      transform.type_conversion.tensor.cast_shape_dynamic_dims
    } : (!transform.any_op, !transform.any_value, !transform.any_value, !transform.any_op) -> !transform.any_op
    transform.yield
  }

  // Pass 2b, NCHW, 5x5, stride 2: util.call @depthwise5x5_pad_nchw(x, 0.0) straight into
  // linalg.depthwise_conv_2d_nchw_chw (5x5, stride 2, dilation 1) accumulating into zeros.
  transform.named_sequence @match_nchw5_s2(%root: !transform.any_op {transform.readonly}) -> (!transform.any_value, !transform.any_value) {
    %ins, %outs = transform.iree.match.cast_compatible_dag_from_root %root {
      ^bb0(%x: tensor<1x?x?x?xf32>, %filter: tensor<?x5x5xf32>):
        %zero = arith.constant 0.000000e+00 : f32
        %xc = tensor.cast %x : tensor<1x?x?x?xf32> to tensor<1x?x?x?xf32>
        %call = "util.call"(%xc, %zero) <{callee = @depthwise5x5_pad_nchw}> : (tensor<1x?x?x?xf32>, f32) -> tensor<1x?x?x?xf32>
        %padded = tensor.cast %call : tensor<1x?x?x?xf32> to tensor<1x?x?x?xf32>
        %c1 = arith.constant 1 : index
        %c2 = arith.constant 2 : index
        %c3 = arith.constant 3 : index
        %d1 = tensor.dim %padded, %c1 : tensor<1x?x?x?xf32>
        %d2 = tensor.dim %padded, %c2 : tensor<1x?x?x?xf32>
        %d3 = tensor.dim %padded, %c3 : tensor<1x?x?x?xf32>
        %oe = tensor.empty(%d1, %d2, %d3) {"match.operation_name_only"} : tensor<1x?x?x?xf32>
        %fill = linalg.fill ins(%zero : f32) outs(%oe : tensor<1x?x?x?xf32>) -> tensor<1x?x?x?xf32>
        %conv = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>}
            ins(%padded, %filter : tensor<1x?x?x?xf32>, tensor<?x5x5xf32>) outs(%fill : tensor<1x?x?x?xf32>) -> tensor<1x?x?x?xf32>
    } : (!transform.any_op) -> (!transform.any_value, !transform.any_value)
    transform.yield %ins, %outs : !transform.any_value, !transform.any_value
  }

  transform.named_sequence @call_nchw5_s2(%ins: !transform.any_value {transform.readonly}, %out: !transform.any_value {transform.readonly}) {
    %root = transform.get_defining_op %out : (!transform.any_value) -> !transform.any_op
    %module = transform.util.get_nearest_symbol_table %root : (!transform.any_op) -> !transform.any_op
    %executable = transform.util.import_symbol @depthwise3x3 into %module if undefined : (!transform.any_op) -> !transform.any_op
    %func = transform.util.import_symbol @depthwise5x5_nchw_s2_call into %module if undefined : (!transform.any_op) -> !transform.any_op
    %call = transform.util.cast_and_call %func(%ins) -> %out after %root {
      transform.type_conversion.tensor.cast_shape_dynamic_dims
    } : (!transform.any_op, !transform.any_value, !transform.any_value, !transform.any_op) -> !transform.any_op
    transform.yield
  }

  transform.named_sequence @__transform_main(%module: !transform.any_op) {
    // Pass 1: every tensor.pad by one pixel on each side of H and W (NHWC with the channels-last
    // pass's unit dimension), whatever its value, becomes a call of @depthwise3x3_pad.
    %pads = transform.structured.match ops{["tensor.pad"]} attributes {static_low = array<i64: 0, 0, 1, 1, 0>, static_high = array<i64: 0, 0, 1, 1, 0>} in %module : (!transform.any_op) -> !transform.any_op
    transform.foreach %pads : !transform.any_op {
      ^bb0(%pad: !transform.any_op):
        %yield = transform.structured.match ops{["tensor.yield"]} in %pad : (!transform.any_op) -> !transform.any_op
        %x = transform.get_operand %pad[0] : (!transform.any_op) -> !transform.any_value
        %value = transform.get_operand %yield[0] : (!transform.any_op) -> !transform.any_value
        %args = transform.merge_handles %x, %value : !transform.any_value
        %padded = transform.get_result %pad[0] : (!transform.any_op) -> !transform.any_value
        %table = transform.util.get_nearest_symbol_table %pad : (!transform.any_op) -> !transform.any_op
        %outline = transform.util.import_symbol @depthwise3x3_pad into %table if undefined : (!transform.any_op) -> !transform.any_op
        transform.util.cast_and_call %outline(%args) -> %padded after %pad {
          transform.type_conversion.tensor.cast_shape_dynamic_dims
        } : (!transform.any_op, !transform.any_value, !transform.any_value, !transform.any_op) -> !transform.any_op
    }
    // ... and every pad of an NCHW tensor by one pixel on each side of H and W (where the
    // channels-last pass left the convolution's input NCHW, as YOLOX-nano's SiLU products).
    %pads4 = transform.structured.match ops{["tensor.pad"]} attributes {static_low = array<i64: 0, 0, 1, 1>, static_high = array<i64: 0, 0, 1, 1>} in %module : (!transform.any_op) -> !transform.any_op
    transform.foreach %pads4 : !transform.any_op {
      ^bb0(%pad: !transform.any_op):
        %yield = transform.structured.match ops{["tensor.yield"]} in %pad : (!transform.any_op) -> !transform.any_op
        %x = transform.get_operand %pad[0] : (!transform.any_op) -> !transform.any_value
        %value = transform.get_operand %yield[0] : (!transform.any_op) -> !transform.any_value
        %args = transform.merge_handles %x, %value : !transform.any_value
        %padded = transform.get_result %pad[0] : (!transform.any_op) -> !transform.any_value
        %table = transform.util.get_nearest_symbol_table %pad : (!transform.any_op) -> !transform.any_op
        %outline = transform.util.import_symbol @depthwise3x3_pad_nchw into %table if undefined : (!transform.any_op) -> !transform.any_op
        transform.util.cast_and_call %outline(%args) -> %padded after %pad {
          transform.type_conversion.tensor.cast_shape_dynamic_dims
        } : (!transform.any_op, !transform.any_value, !transform.any_value, !transform.any_op) -> !transform.any_op
    }
    // ... and every pad of an NCHW tensor by two pixels on each side of H and W (a 5x5 window's).
    %pads5 = transform.structured.match ops{["tensor.pad"]} attributes {static_low = array<i64: 0, 0, 2, 2>, static_high = array<i64: 0, 0, 2, 2>} in %module : (!transform.any_op) -> !transform.any_op
    transform.foreach %pads5 : !transform.any_op {
      ^bb0(%pad: !transform.any_op):
        %yield = transform.structured.match ops{["tensor.yield"]} in %pad : (!transform.any_op) -> !transform.any_op
        %x = transform.get_operand %pad[0] : (!transform.any_op) -> !transform.any_value
        %value = transform.get_operand %yield[0] : (!transform.any_op) -> !transform.any_value
        %args = transform.merge_handles %x, %value : !transform.any_value
        %padded = transform.get_result %pad[0] : (!transform.any_op) -> !transform.any_value
        %table = transform.util.get_nearest_symbol_table %pad : (!transform.any_op) -> !transform.any_op
        %outline = transform.util.import_symbol @depthwise5x5_pad_nchw into %table if undefined : (!transform.any_op) -> !transform.any_op
        transform.util.cast_and_call %outline(%args) -> %padded after %pad {
          transform.type_conversion.tensor.cast_shape_dynamic_dims
        } : (!transform.any_op, !transform.any_value, !transform.any_value, !transform.any_op) -> !transform.any_op
    }
    // ... and every expand of an NHWC tensor to [1, 1, h, w, c] becomes a call of @depthwise3x3_expand.
    %expands = transform.structured.match ops{["tensor.expand_shape"]} attributes {reassociation = [[0], [1, 2], [3], [4]]} in %module : (!transform.any_op) -> !transform.any_op
    transform.foreach %expands : !transform.any_op {
      ^bb0(%ex: !transform.any_op):
        %src = transform.get_operand %ex[0] : (!transform.any_op) -> !transform.any_value
        %res = transform.get_result %ex[0] : (!transform.any_op) -> !transform.any_value
        %table = transform.util.get_nearest_symbol_table %ex : (!transform.any_op) -> !transform.any_op
        %outline = transform.util.import_symbol @depthwise3x3_expand into %table if undefined : (!transform.any_op) -> !transform.any_op
        transform.util.cast_and_call %outline(%src) -> %res after %ex {
          transform.type_conversion.tensor.cast_shape_dynamic_dims
        } : (!transform.any_op, !transform.any_value, !transform.any_value, !transform.any_op) -> !transform.any_op
    }
    transform.apply_dce to %module : !transform.any_op
    // Pass 2a: the depthwise convolutions those pads feed, with BatchNorm and ReLU6 after them.
    %funcs = transform.structured.match ops{["util.func"]} in %module : (!transform.any_op) -> !transform.any_op
    transform.foreach %funcs : !transform.any_op {
      ^bb1(%func: !transform.any_op):
        transform.foreach_match in %func
            @match_bn_relu6_s1 -> @call_bn_relu6_s1,
            @match_bn_relu6_s2 -> @call_bn_relu6_s2
          : (!transform.any_op) -> (!transform.any_op)
    }
    transform.apply_dce to %module : !transform.any_op
    // Pass 3: the stem convolution (pass 2a has taken its consumer, whose pad it no longer needs).
    %funcs3 = transform.structured.match ops{["util.func"]} in %module : (!transform.any_op) -> !transform.any_op
    transform.foreach %funcs3 : !transform.any_op {
      ^bb3(%func: !transform.any_op):
        transform.foreach_match in %func
            @match_stem -> @call_stem
          : (!transform.any_op) -> (!transform.any_op)
    }
    transform.apply_dce to %module : !transform.any_op
    // Pass 2b: the other depthwise convolutions those pads feed, alone.
    %funcs2 = transform.structured.match ops{["util.func"]} in %module : (!transform.any_op) -> !transform.any_op
    transform.foreach %funcs2 : !transform.any_op {
      ^bb2(%func: !transform.any_op):
        transform.foreach_match in %func
            @match_s1 -> @call_s1,
            @match_s2 -> @call_s2,
            @match_nchw_s1 -> @call_nchw_s1,
            @match_nchw_s2 -> @call_nchw_s2,
            @match_nchw5_s1 -> @call_nchw5_s1,
            @match_nchw5_s2 -> @call_nchw5_s2
          : (!transform.any_op) -> (!transform.any_op)
    }
    transform.apply_dce to %module : !transform.any_op
    // The pads pass 2 did not take go back inline (no inliner runs after preprocessing).
    %inlined = transform.apply_registered_pass "inline" to %module : (!transform.any_op) -> !transform.any_op
    transform.yield
  }
}
