// Swaps `-|a * b|` (three elementwise linalg.generic ops on 16 f32) for a call to the import
// `negabs_workgroup`, which the runtime resolves from the plugin (negabs_plugin.c) it is given with
// --executable_plugin: ../negabs/spec.mlir without the object (no `objects` on the executable, no
// hal.import.static on the declaration). IREE 3.4+ spellings; static shapes, no push constant, and
// a "hal.executable.source" rather than a hal.executable with its own variant (see
// ../negabs/spec.mlir for why: the latter breaks beside any other dispatch of the model).

#negabs_layout = #hal.pipeline.layout<bindings = [
  #hal.pipeline.binding<storage_buffer, ReadOnly>,
  #hal.pipeline.binding<storage_buffer, ReadOnly>,
  #hal.pipeline.binding<storage_buffer>
]>
module attributes {transform.with_named_sequence} {
  "hal.executable.source"() ({
      hal.executable.export public @negabs ordinal(0) layout(#negabs_layout)
          count(%device: !hal.device, %workload: index) -> (index, index, index) {
        %groups = affine.apply affine_map<()[s0] -> (s0 ceildiv 64)>()[%workload]
        %one = arith.constant 1 : index
        hal.return %groups, %one, %one : index, index, index
      }
      builtin.module {
        func.func private @negabs_workgroup(memref<16xf32>, memref<16xf32>, memref<16xf32>, index)
        func.func @negabs() {
          %zero = arith.constant 0 : index
          %group = hal.interface.workgroup.id[0] : index
          %first = affine.apply affine_map<()[s0] -> (s0 * 64)>()[%group]
          %a = hal.interface.binding.subspan layout(#negabs_layout) binding(0) alignment(64) offset(%zero) : memref<16xf32>
          %b = hal.interface.binding.subspan layout(#negabs_layout) binding(1) alignment(64) offset(%zero) : memref<16xf32>
          %out = hal.interface.binding.subspan layout(#negabs_layout) binding(2) alignment(64) offset(%zero) : memref<16xf32>
          func.call @negabs_workgroup(%a, %b, %out, %first) : (memref<16xf32>, memref<16xf32>, memref<16xf32>, index) -> ()
          return
        }
      }
      "hal.executable.source_end"() : () -> ()
  }) {sym_name = "negabs_executable", sym_visibility = "private"} : () -> ()

  util.func private @negabs_call(%a: tensor<16xf32>, %b: tensor<16xf32>) -> tensor<16xf32> {
    %length = arith.constant 16 : index
    %out = flow.dispatch @negabs_executable::@negabs[%length](%a, %b)
        : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
    util.return %out : tensor<16xf32>
  }

  transform.named_sequence @negabs_match(%root: !transform.any_op {transform.readonly})
      -> (!transform.any_value, !transform.any_value) {
    %ins, %outs = transform.iree.match.cast_compatible_dag_from_root %root {
      ^bb0(%a: tensor<16xf32>, %b: tensor<16xf32>):
        %empty = tensor.empty() {"match.operation_name_only"} : tensor<16xf32>
        %product = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>,
                                                    affine_map<(d0) -> (d0)>],
                                   iterator_types = ["parallel"]}
            ins(%a, %b : tensor<16xf32>, tensor<16xf32>) outs(%empty : tensor<16xf32>) {
        ^bb0(%x: f32, %y: f32, %o: f32):
          %p = arith.mulf %x, %y : f32
          linalg.yield %p : f32
        } -> tensor<16xf32>
        %magnitude = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                                     iterator_types = ["parallel"]}
            ins(%product : tensor<16xf32>) outs(%empty : tensor<16xf32>) {
        ^bb0(%x: f32, %o: f32):
          %m = math.absf %x : f32
          linalg.yield %m : f32
        } -> tensor<16xf32>
        %negated = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                                   iterator_types = ["parallel"]}
            ins(%magnitude : tensor<16xf32>) outs(%empty : tensor<16xf32>) {
        ^bb0(%x: f32, %o: f32):
          %n = arith.negf %x : f32
          linalg.yield %n : f32
        } -> tensor<16xf32>
    } : (!transform.any_op) -> (!transform.any_value, !transform.any_value)
    transform.yield %ins, %outs : !transform.any_value, !transform.any_value
  }

  transform.named_sequence @negabs_swap(%ins: !transform.any_value {transform.readonly},
                                        %out: !transform.any_value {transform.readonly}) {
    %root = transform.get_defining_op %out : (!transform.any_value) -> !transform.any_op
    %module = transform.util.get_nearest_symbol_table %root : (!transform.any_op) -> !transform.any_op
    %executable = transform.util.import_symbol @negabs_executable into %module if undefined
        : (!transform.any_op) -> !transform.any_op
    %call = transform.util.import_symbol @negabs_call into %module if undefined
        : (!transform.any_op) -> !transform.any_op
    transform.util.cast_and_call %call(%ins) -> %out after %root {
      transform.type_conversion.tensor.cast_shape_dynamic_dims
    } : (!transform.any_op, !transform.any_value, !transform.any_value, !transform.any_op) -> !transform.any_op
    transform.yield
  }

  transform.named_sequence @__transform_main(%module: !transform.any_op) {
    %funcs = transform.structured.match ops{["util.func"]} in %module : (!transform.any_op) -> !transform.any_op
    transform.foreach %funcs : !transform.any_op {
    ^bb0(%func: !transform.any_op):
      transform.foreach_match in %func @negabs_match -> @negabs_swap : (!transform.any_op) -> (!transform.any_op)
    }
    transform.apply_dce to %module : !transform.any_op
    transform.yield
  }
}
