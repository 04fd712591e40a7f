hal.executable public @main$async_dispatch_32 {
  hal.executable.variant public @embedded_elf_x86_64 target(<"llvm-cpu", "embedded-elf-x86_64", {cpu = "znver4", cpu_features = "+adx,+aes,+avx,+avx2,+avx512bf16,+avx512bitalg,+avx512bw,+avx512cd,+avx512dq,+avx512f,+avx512ifma,+avx512vbmi,+avx512vbmi2,+avx512vl,+avx512vnni,+avx512vpopcntdq,+bmi,+bmi2,+clflushopt,+clwb,+clzero,+crc32,+cx16,+cx8,+f16c,+fma,+fsgsbase,+fxsr,+gfni,+invpcid,+lzcnt,+mmx,+movbe,+mwaitx,+pclmul,+pku,+popcnt,+prfchw,+rdpid,+rdpru,+rdrnd,+rdseed,+sahf,+sha,+shstk,+sse,+sse2,+sse3,+sse4.1,+sse4.2,+sse4a,+ssse3,+vaes,+vpclmulqdq,+wbnoinvd,+x87,+xsave,+xsavec,+xsaveopt,+xsaves,+64bit,+adx,+aes,-amx-avx512,-amx-bf16,-amx-complex,-amx-fp16,-amx-fp8,-amx-int8,-amx-movrs,-amx-tile,+avx,-avx10.1,-avx10.2,-avx10v2aux,+avx2,+avx512bf16,+avx512bitalg,-avx512bmm,+avx512bw,+avx512cd,+avx512dq,+avx512f,-avx512fp16,+avx512ifma,+avx512vbmi,+avx512vbmi2,+avx512vl,+avx512vnni,-avx512vp2intersect,+avx512vpopcntdq,-avxifma,-avxneconvert,-avxvnni,-avxvnniint16,-avxvnniint8,+bmi,+bmi2,-ccmp,-cf,-cldemote,+clflushopt,+clwb,+clzero,+cmov,-cmpccxadd,+crc32,+cx16,+cx8,-egpr,-enqcmd,+f16c,+fma,-fma4,+fsgsbase,+fxsr,+gfni,-hreset,+invpcid,-jmpabs,-kl,-lwp,+lzcnt,+mmx,+movbe,-movdir64b,-movdiri,-movrs,-mwaitx,-ndd,-nf,+pclmul,-pconfig,-pku,+popcnt,-ppx,-prefetchi,+prfchw,-ptwrite,-push2pop2,-raoint,+rdpid,-rdpru,+rdrnd,+rdseed,-rtm,+sahf,-serialize,-sgx,+sha,-sha512,+shstk,-sm3,-sm4,+sse,+sse2,+sse3,+sse4.1,+sse4.2,+sse4a,+ssse3,-tbm,-tsxldtrk,-uintr,-usermsr,+vaes,+vpclmulqdq,-waitpkg,-wbnoinvd,-widekl,-xop,+xsave,+xsavec,+xsaveopt,+xsaves,-zu", data_layout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128", iree.encoding.resolver = #iree_cpu.cpu_encoding_resolver<>, loop_unrolling = true, max_stack_allocation_size = 1048576 : i64, native_vector_size = 64 : i64, target_triple = "x86_64-unknown-unknown-eabi-elf"}>) {
    hal.executable.export public @main$async_dispatch_32_conv_14x14x240x5x5_f32 ordinal(0) layout(#hal.pipeline.layout<constants = 5, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) count(%arg0: !hal.device) -> (index, index, index) {
      %x, %y, %z = iree_tensor_ext.dispatch.workgroup_count_from_slice()
      hal.return %x, %y, %z : index, index, index
    }
    builtin.module {
      func.func @main$async_dispatch_32_conv_14x14x240x5x5_f32() {
        %cst = arith.constant 6.000000e+00 : f32
        %cst_0 = arith.constant 0.000000e+00 : f32
        %cst_1 = arith.constant 3.000000e+00 : f32
        %c252800 = arith.constant 252800 : index
        %c31360 = arith.constant 31360 : index
        %0 = hal.interface.constant.load layout(<constants = 5, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) ordinal(0) : i32
        %1 = hal.interface.constant.load layout(<constants = 5, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) ordinal(1) : i32
        %2 = hal.interface.constant.load layout(<constants = 5, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) ordinal(2) : i32
        %3 = hal.interface.constant.load layout(<constants = 5, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) ordinal(3) : i32
        %4 = hal.interface.constant.load layout(<constants = 5, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) ordinal(4) : i32
        %5 = arith.index_castui %0 : i32 to index
        %6 = arith.index_castui %1 : i32 to index
        %7 = arith.index_castui %2 : i32 to index
        %8 = arith.index_castui %3 : i32 to index
        %9 = arith.index_castui %4 : i32 to index
        %10:5 = util.assume.int 
            %5[<umin = 55488, umax = 55488, udiv = 55488>, <umin = 79488, umax = 79488, udiv = 79488>], 
            %6[<umin = 19584, umax = 19584, udiv = 19584>, <umin = 22464, umax = 22464, udiv = 22464>], 
            %7[<umin = 1152, umax = 1152, udiv = 1152>, <umin = 2112, umax = 2112, udiv = 2112>], 
            %8[<umin = 20544, umax = 20544, udiv = 20544>, <umin = 23424, umax = 23424, udiv = 23424>], 
            %9[<umin = 21504, umax = 21504, udiv = 21504>, <umin = 24384, umax = 24384, udiv = 24384>]
          : index, index, index, index, index
        %11 = hal.interface.binding.subspan layout(<constants = 5, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(0) alignment(64) offset(%c252800) flags("ReadOnly|Indirect") : !iree_tensor_ext.dispatch.tensor<readonly:tensor<240x18x18xf32>>
        %12 = hal.interface.binding.subspan layout(<constants = 5, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(1) alignment(64) offset(%10#0) flags(ReadOnly) : !iree_tensor_ext.dispatch.tensor<readonly:tensor<240x5x5xf32>>
        %13 = hal.interface.binding.subspan layout(<constants = 5, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(1) alignment(64) offset(%10#1) flags(ReadOnly) : !iree_tensor_ext.dispatch.tensor<readonly:tensor<240xf32>>
        %14 = hal.interface.binding.subspan layout(<constants = 5, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(1) alignment(64) offset(%10#2) flags(ReadOnly) : !iree_tensor_ext.dispatch.tensor<readonly:tensor<240xf32>>
        %15 = hal.interface.binding.subspan layout(<constants = 5, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(1) alignment(64) offset(%10#3) flags(ReadOnly) : !iree_tensor_ext.dispatch.tensor<readonly:tensor<240xf32>>
        %16 = hal.interface.binding.subspan layout(<constants = 5, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(1) alignment(64) offset(%10#4) flags(ReadOnly) : !iree_tensor_ext.dispatch.tensor<readonly:tensor<240xf32>>
        %17 = hal.interface.binding.subspan layout(<constants = 5, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(2) alignment(64) offset(%c31360) flags(Indirect) : !iree_tensor_ext.dispatch.tensor<writeonly:tensor<240x14x14xf32>>
        %18 = iree_tensor_ext.dispatch.tensor.load %11, offsets = [0, 0, 0], sizes = [240, 18, 18], strides = [1, 1, 1] : !iree_tensor_ext.dispatch.tensor<readonly:tensor<240x18x18xf32>> -> tensor<240x18x18xf32>
        %19 = iree_tensor_ext.dispatch.tensor.load %12, offsets = [0, 0, 0], sizes = [240, 5, 5], strides = [1, 1, 1] : !iree_tensor_ext.dispatch.tensor<readonly:tensor<240x5x5xf32>> -> tensor<240x5x5xf32>
        %20 = iree_tensor_ext.dispatch.tensor.load %13, offsets = [0], sizes = [240], strides = [1] : !iree_tensor_ext.dispatch.tensor<readonly:tensor<240xf32>> -> tensor<240xf32>
        %21 = iree_tensor_ext.dispatch.tensor.load %14, offsets = [0], sizes = [240], strides = [1] : !iree_tensor_ext.dispatch.tensor<readonly:tensor<240xf32>> -> tensor<240xf32>
        %22 = iree_tensor_ext.dispatch.tensor.load %15, offsets = [0], sizes = [240], strides = [1] : !iree_tensor_ext.dispatch.tensor<readonly:tensor<240xf32>> -> tensor<240xf32>
        %23 = iree_tensor_ext.dispatch.tensor.load %16, offsets = [0], sizes = [240], strides = [1] : !iree_tensor_ext.dispatch.tensor<readonly:tensor<240xf32>> -> tensor<240xf32>
        %24 = tensor.empty() : tensor<240x14x14xf32>
        %25 = linalg.fill ins(%cst_0 : f32) outs(%24 : tensor<240x14x14xf32>) -> tensor<240x14x14xf32>
        %26 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d2, d0 + d3, d1 + d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d2, d0, d1)>], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%18, %19 : tensor<240x18x18xf32>, tensor<240x5x5xf32>) outs(%25 : tensor<240x14x14xf32>) {
        ^bb0(%in: f32, %in_2: f32, %out: f32):
          %28 = arith.mulf %in, %in_2 : f32
          %29 = arith.addf %out, %28 : f32
          linalg.yield %29 : f32
        } -> tensor<240x14x14xf32>
        %27 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0)>, affine_map<(d0, d1, d2) -> (d0)>, affine_map<(d0, d1, d2) -> (d0)>, affine_map<(d0, d1, d2) -> (d0)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%26, %20, %21, %22, %23 : tensor<240x14x14xf32>, tensor<240xf32>, tensor<240xf32>, tensor<240xf32>, tensor<240xf32>) outs(%24 : tensor<240x14x14xf32>) {
        ^bb0(%in: f32, %in_2: f32, %in_3: f32, %in_4: f32, %in_5: f32, %out: f32):
          %28 = arith.subf %in, %in_2 : f32
          %29 = arith.mulf %28, %in_3 : f32
          %30 = arith.mulf %29, %in_4 : f32
          %31 = arith.addf %30, %in_5 : f32
          %32 = arith.addf %31, %cst_1 : f32
          %33 = arith.cmpf ugt, %32, %cst_0 : f32
          %34 = arith.select %33, %32, %cst_0 : f32
          %35 = arith.cmpf olt, %34, %cst : f32
          %36 = arith.select %35, %34, %cst : f32
          %37 = arith.divf %36, %cst : f32
          %38 = arith.mulf %37, %31 : f32
          linalg.yield %38 : f32
        } -> tensor<240x14x14xf32>
        iree_tensor_ext.dispatch.tensor.store %27, %17, offsets = [0, 0, 0], sizes = [240, 14, 14], strides = [1, 1, 1] : tensor<240x14x14xf32> -> !iree_tensor_ext.dispatch.tensor<writeonly:tensor<240x14x14xf32>>
        return
      }
    }
  }
}
