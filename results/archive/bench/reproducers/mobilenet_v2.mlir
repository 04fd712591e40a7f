module {
  util.global private @__device_0 = #hal.device.target<"local", [#hal.executable.target<"llvm-cpu", "embedded-elf-x86_64", {cpu = "znver5", cpu_features = "+adx,+aes,+avx,+avx2,+avx512bf16,+avx512bitalg,+avx512bw,+avx512cd,+avx512dq,+avx512f,+avx512ifma,+avx512vbmi,+avx512vbmi2,+avx512vl,+avx512vnni,+avx512vp2intersect,+avx512vpopcntdq,+avxvnni,+bmi,+bmi2,+clflushopt,+clwb,+clzero,+crc32,+cx16,+cx8,+f16c,+fma,+fsgsbase,+fxsr,+gfni,+invpcid,+lzcnt,+mmx,+movbe,+movdir64b,+movdiri,+mwaitx,+pclmul,+pku,+popcnt,+prefetchi,+prfchw,+rdpid,+rdpru,+rdrnd,+rdseed,+sahf,+sha,+shstk,+sse,+sse2,+sse3,+sse4.1,+sse4.2,+sse4a,+ssse3,+vaes,+vpclmulqdq,+wbnoinvd,+x87,+xsave,+xsavec,+xsaveopt,+xsaves,+64bit,+adx,+aes,-amx-avx512,-amx-bf16,-amx-complex,-amx-fp16,-amx-fp8,-amx-int8,-amx-movrs,-amx-tile,+avx,-avx10.1,-avx10.2,-avx10v2aux,+avx2,+avx512bf16,+avx512bitalg,-avx512bmm,+avx512bw,+avx512cd,+avx512dq,+avx512f,-avx512fp16,+avx512ifma,+avx512vbmi,+avx512vbmi2,+avx512vl,+avx512vnni,+avx512vp2intersect,+avx512vpopcntdq,-avxifma,-avxneconvert,+avxvnni,-avxvnniint16,-avxvnniint8,+bmi,+bmi2,-ccmp,-cf,-cldemote,+clflushopt,+clwb,+clzero,+cmov,-cmpccxadd,+crc32,+cx16,+cx8,-egpr,-enqcmd,+f16c,+fma,-fma4,+fsgsbase,+fxsr,+gfni,-hreset,+invpcid,-jmpabs,-kl,-lwp,+lzcnt,+mmx,+movbe,-movdir64b,-movdiri,-movrs,-mwaitx,-ndd,-nf,+pclmul,-pconfig,-pku,+popcnt,-ppx,-prefetchi,+prfchw,-ptwrite,-push2pop2,-raoint,+rdpid,-rdpru,+rdrnd,+rdseed,-rtm,+sahf,-serialize,-sgx,+sha,-sha512,+shstk,-sm3,-sm4,+sse,+sse2,+sse3,+sse4.1,+sse4.2,+sse4a,+ssse3,-tbm,-tsxldtrk,-uintr,-usermsr,+vaes,+vpclmulqdq,-waitpkg,-wbnoinvd,-widekl,-xop,+xsave,+xsavec,+xsaveopt,+xsaves,-zu", data_layout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128", iree.encoding.resolver = #iree_cpu.cpu_encoding_resolver<>, max_stack_allocation_size = 32768 : i64, native_vector_size = 64 : i64, target_triple = "x86_64-unknown-unknown-eabi-elf"}>]> : !hal.device
  hal.executable private @main$async_dispatch_61 {
    hal.executable.variant public @embedded_elf_x86_64 target(<"llvm-cpu", "embedded-elf-x86_64", {cpu = "znver5", cpu_features = "+adx,+aes,+avx,+avx2,+avx512bf16,+avx512bitalg,+avx512bw,+avx512cd,+avx512dq,+avx512f,+avx512ifma,+avx512vbmi,+avx512vbmi2,+avx512vl,+avx512vnni,+avx512vp2intersect,+avx512vpopcntdq,+avxvnni,+bmi,+bmi2,+clflushopt,+clwb,+clzero,+crc32,+cx16,+cx8,+f16c,+fma,+fsgsbase,+fxsr,+gfni,+invpcid,+lzcnt,+mmx,+movbe,+movdir64b,+movdiri,+mwaitx,+pclmul,+pku,+popcnt,+prefetchi,+prfchw,+rdpid,+rdpru,+rdrnd,+rdseed,+sahf,+sha,+shstk,+sse,+sse2,+sse3,+sse4.1,+sse4.2,+sse4a,+ssse3,+vaes,+vpclmulqdq,+wbnoinvd,+x87,+xsave,+xsavec,+xsaveopt,+xsaves,+64bit,+adx,+aes,-amx-avx512,-amx-bf16,-amx-complex,-amx-fp16,-amx-fp8,-amx-int8,-amx-movrs,-amx-tile,+avx,-avx10.1,-avx10.2,-avx10v2aux,+avx2,+avx512bf16,+avx512bitalg,-avx512bmm,+avx512bw,+avx512cd,+avx512dq,+avx512f,-avx512fp16,+avx512ifma,+avx512vbmi,+avx512vbmi2,+avx512vl,+avx512vnni,+avx512vp2intersect,+avx512vpopcntdq,-avxifma,-avxneconvert,+avxvnni,-avxvnniint16,-avxvnniint8,+bmi,+bmi2,-ccmp,-cf,-cldemote,+clflushopt,+clwb,+clzero,+cmov,-cmpccxadd,+crc32,+cx16,+cx8,-egpr,-enqcmd,+f16c,+fma,-fma4,+fsgsbase,+fxsr,+gfni,-hreset,+invpcid,-jmpabs,-kl,-lwp,+lzcnt,+mmx,+movbe,-movdir64b,-movdiri,-movrs,-mwaitx,-ndd,-nf,+pclmul,-pconfig,-pku,+popcnt,-ppx,-prefetchi,+prfchw,-ptwrite,-push2pop2,-raoint,+rdpid,-rdpru,+rdrnd,+rdseed,-rtm,+sahf,-serialize,-sgx,+sha,-sha512,+shstk,-sm3,-sm4,+sse,+sse2,+sse3,+sse4.1,+sse4.2,+sse4a,+ssse3,-tbm,-tsxldtrk,-uintr,-usermsr,+vaes,+vpclmulqdq,-waitpkg,-wbnoinvd,-widekl,-xop,+xsave,+xsavec,+xsaveopt,+xsaves,-zu", data_layout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128", iree.encoding.resolver = #iree_cpu.cpu_encoding_resolver<>, max_stack_allocation_size = 32768 : i64, native_vector_size = 64 : i64, target_triple = "x86_64-unknown-unknown-eabi-elf"}>) {
      hal.executable.export public @main$async_dispatch_61_matmul_49x160x960_f32 ordinal(0) layout(#hal.pipeline.layout<constants = 8, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) count(%arg0: !hal.device) -> (index, index, index) {
        %x, %y, %z = iree_tensor_ext.dispatch.workgroup_count_from_slice()
        hal.return %x, %y, %z : index, index, index
      }
      builtin.module {
        func.func @main$async_dispatch_61_matmul_49x160x960_f32() attributes {translation_info = #iree_codegen.translation_info<pipeline = #iree_cpu.pipeline<DoubleTilingExpert>>} {
          %cst = arith.constant 0.000000e+00 : f32
          %0 = hal.interface.constant.load layout(<constants = 8, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) ordinal(0) : i32
          %1 = hal.interface.constant.load layout(<constants = 8, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) ordinal(1) : i32
          %2 = hal.interface.constant.load layout(<constants = 8, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) ordinal(2) : i32
          %3 = hal.interface.constant.load layout(<constants = 8, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) ordinal(3) : i32
          %4 = hal.interface.constant.load layout(<constants = 8, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) ordinal(4) : i32
          %5 = hal.interface.constant.load layout(<constants = 8, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) ordinal(5) : i32
          %6 = hal.interface.constant.load layout(<constants = 8, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) ordinal(6) : i32
          %7 = hal.interface.constant.load layout(<constants = 8, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) ordinal(7) : i32
          %8 = arith.index_castui %0 : i32 to index
          %9 = arith.index_castui %1 : i32 to index
          %10 = arith.index_castui %2 : i32 to index
          %11 = arith.index_castui %3 : i32 to index
          %12 = arith.index_castui %4 : i32 to index
          %13 = arith.index_castui %5 : i32 to index
          %14 = arith.index_castui %6 : i32 to index
          %15 = arith.index_castui %7 : i32 to index
          %16:8 = util.assume.int 
              %8[<umin = 144256, umax = 144256, udiv = 144256>, <umin = 31360, umax = 31360, udiv = 31360>], 
              %9[<umin = 112896, umax = 112896, udiv = 112896>, <umin = 0, umax = 0>], 
              %10[<umin = 3620992, umax = 3620992, udiv = 3620992>, <umin = 4884352, umax = 4884352, udiv = 4884352>], 
              %11[<umin = 208192, umax = 208192, udiv = 208192>, <umin = 233152, umax = 233152, udiv = 233152>], 
              %12[<umin = 48704, umax = 48704, udiv = 48704>, <umin = 57024, umax = 57024, udiv = 57024>], 
              %13[<umin = 208832, umax = 208832, udiv = 208832>, <umin = 233792, umax = 233792, udiv = 233792>], 
              %14[<umin = 209472, umax = 209472, udiv = 209472>, <umin = 234432, umax = 234432, udiv = 234432>], 
              %15[<umin = 0, umax = 0>, <umin = 219520, umax = 219520, udiv = 219520>]
            : index, index, index, index, index, index, index, index
          %17 = hal.interface.binding.subspan layout(<constants = 8, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(0) alignment(64) offset(%16#0) flags("ReadOnly|Indirect") : memref<49x960xf32, strided<[960, 1], offset: ?>, #hal.descriptor_type<storage_buffer>>
          %18 = hal.interface.binding.subspan layout(<constants = 8, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(1) alignment(64) offset(%16#2) flags(ReadOnly) : memref<160x960xf32, strided<[960, 1], offset: ?>, #hal.descriptor_type<storage_buffer>>
          %19 = hal.interface.binding.subspan layout(<constants = 8, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(0) alignment(64) offset(%16#1) flags("ReadOnly|Indirect") : memref<49x160xf32, strided<[160, 1], offset: ?>, #hal.descriptor_type<storage_buffer>>
          %20 = hal.interface.binding.subspan layout(<constants = 8, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(1) alignment(64) offset(%16#3) flags(ReadOnly) : memref<160xf32, strided<[1], offset: ?>, #hal.descriptor_type<storage_buffer>>
          %21 = hal.interface.binding.subspan layout(<constants = 8, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(1) alignment(64) offset(%16#4) flags(ReadOnly) : memref<160xf32, strided<[1], offset: ?>, #hal.descriptor_type<storage_buffer>>
          %22 = hal.interface.binding.subspan layout(<constants = 8, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(1) alignment(64) offset(%16#5) flags(ReadOnly) : memref<160xf32, strided<[1], offset: ?>, #hal.descriptor_type<storage_buffer>>
          %23 = hal.interface.binding.subspan layout(<constants = 8, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(1) alignment(64) offset(%16#6) flags(ReadOnly) : memref<160xf32, strided<[1], offset: ?>, #hal.descriptor_type<storage_buffer>>
          %24 = hal.interface.binding.subspan layout(<constants = 8, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(2) alignment(64) offset(%16#7) flags(Indirect) : memref<49x160xf32, strided<[160, 1], offset: ?>, #hal.descriptor_type<storage_buffer>>
          %25 = iree_codegen.load_from_buffer %17 : memref<49x960xf32, strided<[960, 1], offset: ?>, #hal.descriptor_type<storage_buffer>> -> tensor<49x960xf32>
          %26 = iree_codegen.load_from_buffer %18 : memref<160x960xf32, strided<[960, 1], offset: ?>, #hal.descriptor_type<storage_buffer>> -> tensor<160x960xf32>
          %27 = iree_codegen.load_from_buffer %19 : memref<49x160xf32, strided<[160, 1], offset: ?>, #hal.descriptor_type<storage_buffer>> -> tensor<49x160xf32>
          %28 = iree_codegen.load_from_buffer %20 : memref<160xf32, strided<[1], offset: ?>, #hal.descriptor_type<storage_buffer>> -> tensor<160xf32>
          %29 = iree_codegen.load_from_buffer %21 : memref<160xf32, strided<[1], offset: ?>, #hal.descriptor_type<storage_buffer>> -> tensor<160xf32>
          %30 = iree_codegen.load_from_buffer %22 : memref<160xf32, strided<[1], offset: ?>, #hal.descriptor_type<storage_buffer>> -> tensor<160xf32>
          %31 = iree_codegen.load_from_buffer %23 : memref<160xf32, strided<[1], offset: ?>, #hal.descriptor_type<storage_buffer>> -> tensor<160xf32>
          %32 = tensor.empty() : tensor<49x160xf32>
          %33 = linalg.fill {lowering_config = #iree_cpu.lowering_config<vector_common_parallel = [7, 16]>} ins(%cst : f32) outs(%32 : tensor<49x160xf32>) -> tensor<49x160xf32>
          %34 = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] {lowering_config = #iree_cpu.lowering_config<distribution = [16, 40, 0], vector_common_parallel = [7, 16, 0], vector_reduction = [0, 0, 16]>} ins(%25, %26 : tensor<49x960xf32>, tensor<160x960xf32>) outs(%33 : tensor<49x160xf32>) -> tensor<49x160xf32>
          %35 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%27, %34, %28, %29, %30, %31 : tensor<49x160xf32>, tensor<49x160xf32>, tensor<160xf32>, tensor<160xf32>, tensor<160xf32>, tensor<160xf32>) outs(%32 : tensor<49x160xf32>) attrs =  {lowering_config = #iree_cpu.lowering_config<vector_common_parallel = [7, 16]>} {
          ^bb0(%in: f32, %in_0: f32, %in_1: f32, %in_2: f32, %in_3: f32, %in_4: f32, %out: f32):
            %36 = arith.subf %in_0, %in_1 : f32
            %37 = arith.mulf %36, %in_2 : f32
            %38 = arith.mulf %37, %in_3 : f32
            %39 = arith.addf %38, %in_4 : f32
            %40 = arith.addf %in, %39 : f32
            linalg.yield %40 : f32
          } -> tensor<49x160xf32>
          iree_codegen.store_to_buffer %35, %24 : tensor<49x160xf32> into memref<49x160xf32, strided<[160, 1], offset: ?>, #hal.descriptor_type<storage_buffer>>
          return
        }
        iree_codegen.dispatch_config @main$async_dispatch_61_matmul_49x160x960_f32 {
        ^bb0(%arg0: !hal.device):
          %x, %y, %z = iree_tensor_ext.dispatch.workgroup_count_from_slice()
          iree_codegen.yield %x, %y, %z : index, index, index
        }
      }
    }
  }
  util.global private mutable @main$async_dispatch_61_embedded_elf_x86_64_main$async_dispatch_61_matmul_49x160x960_f32_buffer : !hal.buffer
  util.initializer {
    %device, %queue_affinity = hal.device.resolve on(#hal.device.affinity<@__device_0>) : !hal.device, i64
    %allocator = hal.device.allocator<%device : !hal.device> : !hal.allocator
    %memory_type = hal.memory_type<"DeviceVisible|DeviceLocal"> : i32
    %buffer_usage = hal.buffer_usage<"TransferSource|TransferTarget|Transfer|DispatchStorageRead|DispatchStorageWrite|DispatchStorage"> : i32
    %c38582016 = arith.constant 38582016 : index
    %buffer = hal.allocator.allocate<%allocator : !hal.allocator> affinity(%queue_affinity) type(%memory_type) usage(%buffer_usage) : !hal.buffer{%c38582016}
    util.global.store %buffer, @main$async_dispatch_61_embedded_elf_x86_64_main$async_dispatch_61_matmul_49x160x960_f32_buffer : !hal.buffer
    util.return
  }
  util.func public @main$async_dispatch_61_embedded_elf_x86_64_main$async_dispatch_61_matmul_49x160x960_f32(%arg0: i32) attributes {iree.abi.stub, iree.reflection = {iree.benchmark = "dispatch"}} {
    %0 = arith.index_cast %arg0 : i32 to index
    %device, %queue_affinity = hal.device.resolve on(#hal.device.affinity<@__device_0>) : !hal.device, i64
    %cmd = hal.command_buffer.create device(%device : !hal.device) mode("OneShot|AllowInlineExecution") categories(Dispatch) affinity(%queue_affinity) : !hal.command_buffer
    %c31360_i32 = arith.constant 31360 : i32
    %c0_i32 = arith.constant 0 : i32
    %c4884352_i32 = arith.constant 4884352 : i32
    %c233152_i32 = arith.constant 233152 : i32
    %c57024_i32 = arith.constant 57024 : i32
    %c233792_i32 = arith.constant 233792 : i32
    %c234432_i32 = arith.constant 234432 : i32
    %c219520_i32 = arith.constant 219520 : i32
    %main$async_dispatch_61_embedded_elf_x86_64_main$async_dispatch_61_matmul_49x160x960_f32_buffer = util.global.load @main$async_dispatch_61_embedded_elf_x86_64_main$async_dispatch_61_matmul_49x160x960_f32_buffer : !hal.buffer
    %c0 = arith.constant 0 : index
    %c12215808 = arith.constant 12215808 : index
    %c14150272 = arith.constant 14150272 : index
    %c26366208 = arith.constant 26366208 : index
    %workgroup_x, %workgroup_y, %workgroup_z = hal.executable.calculate_workgroups device(%device : !hal.device) target(@main$async_dispatch_61::@embedded_elf_x86_64::@main$async_dispatch_61_matmul_49x160x960_f32) : index, index, index
    %exe = hal.executable.lookup device(%device : !hal.device) executable(@main$async_dispatch_61) : !hal.executable
    %function_id = hal.executable.lookup.function target(%exe : !hal.executable) function(@main$async_dispatch_61::@embedded_elf_x86_64::@main$async_dispatch_61_matmul_49x160x960_f32) : i64
    %c1 = arith.constant 1 : index
    scf.for %arg1 = %c0 to %0 step %c1 {
      hal.command_buffer.dispatch<%cmd : !hal.command_buffer> target(%exe : !hal.executable)[%function_id] workgroups([%workgroup_x, %workgroup_y, %workgroup_z]) constants([%c31360_i32, %c0_i32, %c4884352_i32, %c233152_i32, %c57024_i32, %c233792_i32, %c234432_i32, %c219520_i32]) bindings([
        (%main$async_dispatch_61_embedded_elf_x86_64_main$async_dispatch_61_matmul_49x160x960_f32_buffer : !hal.buffer)[%c0, %c12215808], 
        (%main$async_dispatch_61_embedded_elf_x86_64_main$async_dispatch_61_matmul_49x160x960_f32_buffer : !hal.buffer)[%c12215808, %c14150272], 
        (%main$async_dispatch_61_embedded_elf_x86_64_main$async_dispatch_61_matmul_49x160x960_f32_buffer : !hal.buffer)[%c26366208, %c12215808]
      ]) flags("None")
      hal.command_buffer.execution_barrier<%cmd : !hal.command_buffer> source("Dispatch|CommandRetire") target("CommandIssue|Dispatch") flags("None")
    }
    hal.command_buffer.finalize<%cmd : !hal.command_buffer>
    %1 = util.null : !hal.fence
    %fence = hal.fence.create device(%device : !hal.device) flags("None") : !hal.fence
    hal.device.queue.execute<%device : !hal.device> affinity(%queue_affinity) wait(%1) signal(%fence) commands(%cmd) flags("None")
    %c-1_i32 = arith.constant -1 : i32
    %status = hal.fence.await until([%fence]) timeout_millis(%c-1_i32) flags("None") : i32
    util.status.check_ok %status, "failed to wait on timepoint"
    util.return
  }
}
