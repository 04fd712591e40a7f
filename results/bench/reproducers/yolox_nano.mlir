module {
  util.global private @__device_0 = #hal.device.target<"local", [#hal.executable.target<"llvm-cpu", "embedded-elf-x86_64", {cpu = "znver5", cpu_features = "+adx,+aes,+avx,+avx2,+avx512bf16,+avx512bitalg,+avx512bw,+avx512cd,+avx512dq,+avx512f,+avx512ifma,+avx512vbmi,+avx512vbmi2,+avx512vl,+avx512vnni,+avx512vp2intersect,+avx512vpopcntdq,+avxvnni,+bmi,+bmi2,+clflushopt,+clwb,+clzero,+crc32,+cx16,+cx8,+f16c,+fma,+fsgsbase,+fxsr,+gfni,+invpcid,+lzcnt,+mmx,+movbe,+movdir64b,+movdiri,+mwaitx,+pclmul,+pku,+popcnt,+prefetchi,+prfchw,+rdpid,+rdpru,+rdrnd,+rdseed,+sahf,+sha,+shstk,+sse,+sse2,+sse3,+sse4.1,+sse4.2,+sse4a,+ssse3,+vaes,+vpclmulqdq,+wbnoinvd,+x87,+xsave,+xsavec,+xsaveopt,+xsaves,+64bit,+adx,+aes,-amx-avx512,-amx-bf16,-amx-complex,-amx-fp16,-amx-fp8,-amx-int8,-amx-movrs,-amx-tile,+avx,-avx10.1,-avx10.2,-avx10v2aux,+avx2,+avx512bf16,+avx512bitalg,-avx512bmm,+avx512bw,+avx512cd,+avx512dq,+avx512f,-avx512fp16,+avx512ifma,+avx512vbmi,+avx512vbmi2,+avx512vl,+avx512vnni,+avx512vp2intersect,+avx512vpopcntdq,-avxifma,-avxneconvert,+avxvnni,-avxvnniint16,-avxvnniint8,+bmi,+bmi2,-ccmp,-cf,-cldemote,+clflushopt,+clwb,+clzero,+cmov,-cmpccxadd,+crc32,+cx16,+cx8,-egpr,-enqcmd,+f16c,+fma,-fma4,+fsgsbase,+fxsr,+gfni,-hreset,+invpcid,-jmpabs,-kl,-lwp,+lzcnt,+mmx,+movbe,-movdir64b,-movdiri,-movrs,-mwaitx,-ndd,-nf,+pclmul,-pconfig,-pku,+popcnt,-ppx,-prefetchi,+prfchw,-ptwrite,-push2pop2,-raoint,+rdpid,-rdpru,+rdrnd,+rdseed,-rtm,+sahf,-serialize,-sgx,+sha,-sha512,+shstk,-sm3,-sm4,+sse,+sse2,+sse3,+sse4.1,+sse4.2,+sse4a,+ssse3,-tbm,-tsxldtrk,-uintr,-usermsr,+vaes,+vpclmulqdq,-waitpkg,-wbnoinvd,-widekl,-xop,+xsave,+xsavec,+xsaveopt,+xsaves,-zu", data_layout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128", iree.encoding.resolver = #iree_cpu.cpu_encoding_resolver<>, max_stack_allocation_size = 32768 : i64, native_vector_size = 64 : i64, target_triple = "x86_64-unknown-unknown-eabi-elf"}>]> : !hal.device
  hal.executable private @main$async_dispatch_42 {
    hal.executable.variant public @embedded_elf_x86_64 target(<"llvm-cpu", "embedded-elf-x86_64", {cpu = "znver5", cpu_features = "+adx,+aes,+avx,+avx2,+avx512bf16,+avx512bitalg,+avx512bw,+avx512cd,+avx512dq,+avx512f,+avx512ifma,+avx512vbmi,+avx512vbmi2,+avx512vl,+avx512vnni,+avx512vp2intersect,+avx512vpopcntdq,+avxvnni,+bmi,+bmi2,+clflushopt,+clwb,+clzero,+crc32,+cx16,+cx8,+f16c,+fma,+fsgsbase,+fxsr,+gfni,+invpcid,+lzcnt,+mmx,+movbe,+movdir64b,+movdiri,+mwaitx,+pclmul,+pku,+popcnt,+prefetchi,+prfchw,+rdpid,+rdpru,+rdrnd,+rdseed,+sahf,+sha,+shstk,+sse,+sse2,+sse3,+sse4.1,+sse4.2,+sse4a,+ssse3,+vaes,+vpclmulqdq,+wbnoinvd,+x87,+xsave,+xsavec,+xsaveopt,+xsaves,+64bit,+adx,+aes,-amx-avx512,-amx-bf16,-amx-complex,-amx-fp16,-amx-fp8,-amx-int8,-amx-movrs,-amx-tile,+avx,-avx10.1,-avx10.2,-avx10v2aux,+avx2,+avx512bf16,+avx512bitalg,-avx512bmm,+avx512bw,+avx512cd,+avx512dq,+avx512f,-avx512fp16,+avx512ifma,+avx512vbmi,+avx512vbmi2,+avx512vl,+avx512vnni,+avx512vp2intersect,+avx512vpopcntdq,-avxifma,-avxneconvert,+avxvnni,-avxvnniint16,-avxvnniint8,+bmi,+bmi2,-ccmp,-cf,-cldemote,+clflushopt,+clwb,+clzero,+cmov,-cmpccxadd,+crc32,+cx16,+cx8,-egpr,-enqcmd,+f16c,+fma,-fma4,+fsgsbase,+fxsr,+gfni,-hreset,+invpcid,-jmpabs,-kl,-lwp,+lzcnt,+mmx,+movbe,-movdir64b,-movdiri,-movrs,-mwaitx,-ndd,-nf,+pclmul,-pconfig,-pku,+popcnt,-ppx,-prefetchi,+prfchw,-ptwrite,-push2pop2,-raoint,+rdpid,-rdpru,+rdrnd,+rdseed,-rtm,+sahf,-serialize,-sgx,+sha,-sha512,+shstk,-sm3,-sm4,+sse,+sse2,+sse3,+sse4.1,+sse4.2,+sse4a,+ssse3,-tbm,-tsxldtrk,-uintr,-usermsr,+vaes,+vpclmulqdq,-waitpkg,-wbnoinvd,-widekl,-xop,+xsave,+xsavec,+xsaveopt,+xsaves,-zu", data_layout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128", iree.encoding.resolver = #iree_cpu.cpu_encoding_resolver<>, max_stack_allocation_size = 32768 : i64, native_vector_size = 64 : i64, target_triple = "x86_64-unknown-unknown-eabi-elf"}>) {
      hal.executable.export public @main$async_dispatch_42_matmul_like_128x676x128_f32 ordinal(0) layout(#hal.pipeline.layout<constants = 7, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) count(%arg0: !hal.device) -> (index, index, index) {
        %x, %y, %z = iree_tensor_ext.dispatch.workgroup_count_from_slice()
        hal.return %x, %y, %z : index, index, index
      }
      builtin.module {
        func.func @main$async_dispatch_42_matmul_like_128x676x128_f32() attributes {translation_info = #iree_codegen.translation_info<pipeline = #iree_cpu.pipeline<DoubleTilingExpert>>} {
          %cst = arith.constant 1.000000e+00 : f32
          %cst_0 = arith.constant 0.000000e+00 : f32
          %0 = hal.interface.constant.load layout(<constants = 7, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) ordinal(0) : i32
          %1 = hal.interface.constant.load layout(<constants = 7, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) ordinal(1) : i32
          %2 = hal.interface.constant.load layout(<constants = 7, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) ordinal(2) : i32
          %3 = hal.interface.constant.load layout(<constants = 7, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) ordinal(3) : i32
          %4 = hal.interface.constant.load layout(<constants = 7, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) ordinal(4) : i32
          %5 = hal.interface.constant.load layout(<constants = 7, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) ordinal(5) : i32
          %6 = hal.interface.constant.load layout(<constants = 7, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) ordinal(6) : i32
          %7 = arith.index_castui %0 : i32 to index
          %8 = arith.index_castui %1 : i32 to index
          %9 = arith.index_castui %2 : i32 to index
          %10 = arith.index_castui %3 : i32 to index
          %11 = arith.index_castui %4 : i32 to index
          %12 = arith.index_castui %5 : i32 to index
          %13 = arith.index_castui %6 : i32 to index
          %14:7 = util.assume.int 
              %7[<umin = 1557504, umax = 1557504, udiv = 1557504>, <umin = 865280, umax = 865280, udiv = 865280>, <umin = 519168, umax = 519168, udiv = 519168>], 
              %8[<umin = 417280, umax = 417280, udiv = 417280>, <umin = 2228736, umax = 2228736, udiv = 2228736>, <umin = 2490880, umax = 2490880, udiv = 2490880>], 
              %9[<umin = 84160, umax = 84160, udiv = 84160>, <umin = 109504, umax = 109504, udiv = 109504>, <umin = 124992, umax = 124992, udiv = 124992>], 
              %10[<umin = 6336, umax = 6336, udiv = 6336>, <umin = 15296, umax = 15296, udiv = 15296>, <umin = 18752, umax = 18752, udiv = 18752>], 
              %11[<umin = 84672, umax = 84672, udiv = 84672>, <umin = 110016, umax = 110016, udiv = 110016>, <umin = 125504, umax = 125504, udiv = 125504>], 
              %12[<umin = 85184, umax = 85184, udiv = 85184>, <umin = 110528, umax = 110528, udiv = 110528>, <umin = 126016, umax = 126016, udiv = 126016>], 
              %13[<umin = 692224, umax = 692224, udiv = 692224>, <umin = 1297920, umax = 1297920, udiv = 1297920>, <umin = 865280, umax = 865280, udiv = 865280>]
            : index, index, index, index, index, index, index
          %15 = hal.interface.binding.subspan layout(<constants = 7, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(0) alignment(64) offset(%14#0) flags("ReadOnly|Indirect") : memref<128x676xf32, strided<[676, 1], offset: ?>, #hal.descriptor_type<storage_buffer>>
          %16 = hal.interface.binding.subspan layout(<constants = 7, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(1) alignment(64) offset(%14#1) flags(ReadOnly) : memref<128x128xf32, strided<[128, 1], offset: ?>, #hal.descriptor_type<storage_buffer>>
          %17 = hal.interface.binding.subspan layout(<constants = 7, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(1) alignment(64) offset(%14#2) flags(ReadOnly) : memref<128xf32, strided<[1], offset: ?>, #hal.descriptor_type<storage_buffer>>
          %18 = hal.interface.binding.subspan layout(<constants = 7, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(1) alignment(64) offset(%14#3) flags(ReadOnly) : memref<128xf32, strided<[1], offset: ?>, #hal.descriptor_type<storage_buffer>>
          %19 = hal.interface.binding.subspan layout(<constants = 7, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(1) alignment(64) offset(%14#4) flags(ReadOnly) : memref<128xf32, strided<[1], offset: ?>, #hal.descriptor_type<storage_buffer>>
          %20 = hal.interface.binding.subspan layout(<constants = 7, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(1) alignment(64) offset(%14#5) flags(ReadOnly) : memref<128xf32, strided<[1], offset: ?>, #hal.descriptor_type<storage_buffer>>
          %21 = hal.interface.binding.subspan layout(<constants = 7, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(2) alignment(64) offset(%14#6) flags(Indirect) : memref<128x676xf32, strided<[676, 1], offset: ?>, #hal.descriptor_type<storage_buffer>>
          %22 = iree_codegen.load_from_buffer %15 : memref<128x676xf32, strided<[676, 1], offset: ?>, #hal.descriptor_type<storage_buffer>> -> tensor<128x676xf32>
          %23 = iree_codegen.load_from_buffer %16 : memref<128x128xf32, strided<[128, 1], offset: ?>, #hal.descriptor_type<storage_buffer>> -> tensor<128x128xf32>
          %24 = iree_codegen.load_from_buffer %17 : memref<128xf32, strided<[1], offset: ?>, #hal.descriptor_type<storage_buffer>> -> tensor<128xf32>
          %25 = iree_codegen.load_from_buffer %18 : memref<128xf32, strided<[1], offset: ?>, #hal.descriptor_type<storage_buffer>> -> tensor<128xf32>
          %26 = iree_codegen.load_from_buffer %19 : memref<128xf32, strided<[1], offset: ?>, #hal.descriptor_type<storage_buffer>> -> tensor<128xf32>
          %27 = iree_codegen.load_from_buffer %20 : memref<128xf32, strided<[1], offset: ?>, #hal.descriptor_type<storage_buffer>> -> tensor<128xf32>
          %28 = tensor.empty() : tensor<128x676xf32>
          %29 = linalg.fill {lowering_config = #iree_cpu.lowering_config<vector_common_parallel = [8, 16]>} ins(%cst_0 : f32) outs(%28 : tensor<128x676xf32>) -> tensor<128x676xf32>
          %30 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%22, %23 : tensor<128x676xf32>, tensor<128x128xf32>) outs(%29 : tensor<128x676xf32>) attrs =  {lowering_config = #iree_cpu.lowering_config<distribution = [64, 52, 0], vector_common_parallel = [8, 16, 0], vector_reduction = [0, 0, 16]>} {
          ^bb0(%in: f32, %in_1: f32, %out: f32):
            %32 = arith.mulf %in, %in_1 : f32
            %33 = arith.addf %out, %32 : f32
            linalg.yield %33 : f32
          } -> tensor<128x676xf32>
          %31 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%30, %24, %25, %26, %27 : tensor<128x676xf32>, tensor<128xf32>, tensor<128xf32>, tensor<128xf32>, tensor<128xf32>) outs(%28 : tensor<128x676xf32>) attrs =  {lowering_config = #iree_cpu.lowering_config<vector_common_parallel = [8, 16]>} {
          ^bb0(%in: f32, %in_1: f32, %in_2: f32, %in_3: f32, %in_4: f32, %out: f32):
            %32 = arith.subf %in, %in_1 : f32
            %33 = arith.mulf %32, %in_2 : f32
            %34 = arith.mulf %33, %in_3 : f32
            %35 = arith.addf %34, %in_4 : f32
            %36 = arith.negf %35 : f32
            %37 = math.exp %36 : f32
            %38 = arith.addf %37, %cst : f32
            %39 = arith.divf %cst, %38 : f32
            %40 = arith.mulf %39, %35 : f32
            linalg.yield %40 : f32
          } -> tensor<128x676xf32>
          iree_codegen.store_to_buffer %31, %21 : tensor<128x676xf32> into memref<128x676xf32, strided<[676, 1], offset: ?>, #hal.descriptor_type<storage_buffer>>
          return
        }
        iree_codegen.dispatch_config @main$async_dispatch_42_matmul_like_128x676x128_f32 {
        ^bb0(%arg0: !hal.device):
          %x, %y, %z = iree_tensor_ext.dispatch.workgroup_count_from_slice()
          iree_codegen.yield %x, %y, %z : index, index, index
        }
      }
    }
  }
  util.global private mutable @main$async_dispatch_42_embedded_elf_x86_64_main$async_dispatch_42_matmul_like_128x676x128_f32_buffer : !hal.buffer
  util.initializer {
    %device, %queue_affinity = hal.device.resolve on(#hal.device.affinity<@__device_0>) : !hal.device, i64
    %allocator = hal.device.allocator<%device : !hal.device> : !hal.allocator
    %memory_type = hal.memory_type<"DeviceVisible|DeviceLocal"> : i32
    %buffer_usage = hal.buffer_usage<"TransferSource|TransferTarget|Transfer|DispatchStorageRead|DispatchStorageWrite|DispatchStorage"> : i32
    %c18772224 = arith.constant 18772224 : index
    %buffer = hal.allocator.allocate<%allocator : !hal.allocator> affinity(%queue_affinity) type(%memory_type) usage(%buffer_usage) : !hal.buffer{%c18772224}
    util.global.store %buffer, @main$async_dispatch_42_embedded_elf_x86_64_main$async_dispatch_42_matmul_like_128x676x128_f32_buffer : !hal.buffer
    util.return
  }
  util.func public @main$async_dispatch_42_embedded_elf_x86_64_main$async_dispatch_42_matmul_like_128x676x128_f32(%arg0: i32) attributes {iree.abi.stub, iree.reflection = {iree.benchmark = "dispatch"}} {
    %0 = arith.index_cast %arg0 : i32 to index
    %device, %queue_affinity = hal.device.resolve on(#hal.device.affinity<@__device_0>) : !hal.device, i64
    %cmd = hal.command_buffer.create device(%device : !hal.device) mode("OneShot|AllowInlineExecution") categories(Dispatch) affinity(%queue_affinity) : !hal.command_buffer
    %c519168_i32 = arith.constant 519168 : i32
    %c2490880_i32 = arith.constant 2490880 : i32
    %c124992_i32 = arith.constant 124992 : i32
    %c18752_i32 = arith.constant 18752 : i32
    %c125504_i32 = arith.constant 125504 : i32
    %c126016_i32 = arith.constant 126016 : i32
    %c865280_i32 = arith.constant 865280 : i32
    %main$async_dispatch_42_embedded_elf_x86_64_main$async_dispatch_42_matmul_like_128x676x128_f32_buffer = util.global.load @main$async_dispatch_42_embedded_elf_x86_64_main$async_dispatch_42_matmul_like_128x676x128_f32_buffer : !hal.buffer
    %c0 = arith.constant 0 : index
    %c7535040 = arith.constant 7535040 : index
    %c7535104 = arith.constant 7535104 : index
    %c3701888 = arith.constant 3701888 : index
    %c11237120 = arith.constant 11237120 : index
    %workgroup_x, %workgroup_y, %workgroup_z = hal.executable.calculate_workgroups device(%device : !hal.device) target(@main$async_dispatch_42::@embedded_elf_x86_64::@main$async_dispatch_42_matmul_like_128x676x128_f32) : index, index, index
    %exe = hal.executable.lookup device(%device : !hal.device) executable(@main$async_dispatch_42) : !hal.executable
    %function_id = hal.executable.lookup.function target(%exe : !hal.executable) function(@main$async_dispatch_42::@embedded_elf_x86_64::@main$async_dispatch_42_matmul_like_128x676x128_f32) : i64
    %c1 = arith.constant 1 : index
    scf.for %arg1 = %c0 to %0 step %c1 {
      hal.command_buffer.dispatch<%cmd : !hal.command_buffer> target(%exe : !hal.executable)[%function_id] workgroups([%workgroup_x, %workgroup_y, %workgroup_z]) constants([%c519168_i32, %c2490880_i32, %c124992_i32, %c18752_i32, %c125504_i32, %c126016_i32, %c865280_i32]) bindings([
        (%main$async_dispatch_42_embedded_elf_x86_64_main$async_dispatch_42_matmul_like_128x676x128_f32_buffer : !hal.buffer)[%c0, %c7535040], 
        (%main$async_dispatch_42_embedded_elf_x86_64_main$async_dispatch_42_matmul_like_128x676x128_f32_buffer : !hal.buffer)[%c7535104, %c3701888], 
        (%main$async_dispatch_42_embedded_elf_x86_64_main$async_dispatch_42_matmul_like_128x676x128_f32_buffer : !hal.buffer)[%c11237120, %c7535040]
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
