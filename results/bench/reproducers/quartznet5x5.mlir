module {
  util.global private @__device_0 = #hal.device.target<"local", [#hal.executable.target<"llvm-cpu", "embedded-elf-x86_64", {cpu = "znver5", cpu_features = "+adx,+aes,+avx,+avx2,+avx512bf16,+avx512bitalg,+avx512bw,+avx512cd,+avx512dq,+avx512f,+avx512ifma,+avx512vbmi,+avx512vbmi2,+avx512vl,+avx512vnni,+avx512vp2intersect,+avx512vpopcntdq,+avxvnni,+bmi,+bmi2,+clflushopt,+clwb,+clzero,+crc32,+cx16,+cx8,+f16c,+fma,+fsgsbase,+fxsr,+gfni,+invpcid,+lzcnt,+mmx,+movbe,+movdir64b,+movdiri,+mwaitx,+pclmul,+pku,+popcnt,+prefetchi,+prfchw,+rdpid,+rdpru,+rdrnd,+rdseed,+sahf,+sha,+shstk,+sse,+sse2,+sse3,+sse4.1,+sse4.2,+sse4a,+ssse3,+vaes,+vpclmulqdq,+wbnoinvd,+x87,+xsave,+xsavec,+xsaveopt,+xsaves,+64bit,+adx,+aes,-amx-avx512,-amx-bf16,-amx-complex,-amx-fp16,-amx-fp8,-amx-int8,-amx-movrs,-amx-tile,+avx,-avx10.1,-avx10.2,-avx10v2aux,+avx2,+avx512bf16,+avx512bitalg,-avx512bmm,+avx512bw,+avx512cd,+avx512dq,+avx512f,-avx512fp16,+avx512ifma,+avx512vbmi,+avx512vbmi2,+avx512vl,+avx512vnni,+avx512vp2intersect,+avx512vpopcntdq,-avxifma,-avxneconvert,+avxvnni,-avxvnniint16,-avxvnniint8,+bmi,+bmi2,-ccmp,-cf,-cldemote,+clflushopt,+clwb,+clzero,+cmov,-cmpccxadd,+crc32,+cx16,+cx8,-egpr,-enqcmd,+f16c,+fma,-fma4,+fsgsbase,+fxsr,+gfni,-hreset,+invpcid,-jmpabs,-kl,-lwp,+lzcnt,+mmx,+movbe,-movdir64b,-movdiri,-movrs,-mwaitx,-ndd,-nf,+pclmul,-pconfig,-pku,+popcnt,-ppx,-prefetchi,+prfchw,-ptwrite,-push2pop2,-raoint,+rdpid,-rdpru,+rdrnd,+rdseed,-rtm,+sahf,-serialize,-sgx,+sha,-sha512,+shstk,-sm3,-sm4,+sse,+sse2,+sse3,+sse4.1,+sse4.2,+sse4a,+ssse3,-tbm,-tsxldtrk,-uintr,-usermsr,+vaes,+vpclmulqdq,-waitpkg,-wbnoinvd,-widekl,-xop,+xsave,+xsavec,+xsaveopt,+xsaves,-zu", data_layout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128", iree.encoding.resolver = #iree_cpu.cpu_encoding_resolver<>, max_stack_allocation_size = 32768 : i64, native_vector_size = 64 : i64, target_triple = "x86_64-unknown-unknown-eabi-elf"}>]> : !hal.device
  hal.executable private @main$async_dispatch_53 {
    hal.executable.variant public @embedded_elf_x86_64 target(<"llvm-cpu", "embedded-elf-x86_64", {cpu = "znver5", cpu_features = "+adx,+aes,+avx,+avx2,+avx512bf16,+avx512bitalg,+avx512bw,+avx512cd,+avx512dq,+avx512f,+avx512ifma,+avx512vbmi,+avx512vbmi2,+avx512vl,+avx512vnni,+avx512vp2intersect,+avx512vpopcntdq,+avxvnni,+bmi,+bmi2,+clflushopt,+clwb,+clzero,+crc32,+cx16,+cx8,+f16c,+fma,+fsgsbase,+fxsr,+gfni,+invpcid,+lzcnt,+mmx,+movbe,+movdir64b,+movdiri,+mwaitx,+pclmul,+pku,+popcnt,+prefetchi,+prfchw,+rdpid,+rdpru,+rdrnd,+rdseed,+sahf,+sha,+shstk,+sse,+sse2,+sse3,+sse4.1,+sse4.2,+sse4a,+ssse3,+vaes,+vpclmulqdq,+wbnoinvd,+x87,+xsave,+xsavec,+xsaveopt,+xsaves,+64bit,+adx,+aes,-amx-avx512,-amx-bf16,-amx-complex,-amx-fp16,-amx-fp8,-amx-int8,-amx-movrs,-amx-tile,+avx,-avx10.1,-avx10.2,-avx10v2aux,+avx2,+avx512bf16,+avx512bitalg,-avx512bmm,+avx512bw,+avx512cd,+avx512dq,+avx512f,-avx512fp16,+avx512ifma,+avx512vbmi,+avx512vbmi2,+avx512vl,+avx512vnni,+avx512vp2intersect,+avx512vpopcntdq,-avxifma,-avxneconvert,+avxvnni,-avxvnniint16,-avxvnniint8,+bmi,+bmi2,-ccmp,-cf,-cldemote,+clflushopt,+clwb,+clzero,+cmov,-cmpccxadd,+crc32,+cx16,+cx8,-egpr,-enqcmd,+f16c,+fma,-fma4,+fsgsbase,+fxsr,+gfni,-hreset,+invpcid,-jmpabs,-kl,-lwp,+lzcnt,+mmx,+movbe,-movdir64b,-movdiri,-movrs,-mwaitx,-ndd,-nf,+pclmul,-pconfig,-pku,+popcnt,-ppx,-prefetchi,+prfchw,-ptwrite,-push2pop2,-raoint,+rdpid,-rdpru,+rdrnd,+rdseed,-rtm,+sahf,-serialize,-sgx,+sha,-sha512,+shstk,-sm3,-sm4,+sse,+sse2,+sse3,+sse4.1,+sse4.2,+sse4a,+ssse3,-tbm,-tsxldtrk,-uintr,-usermsr,+vaes,+vpclmulqdq,-waitpkg,-wbnoinvd,-widekl,-xop,+xsave,+xsavec,+xsaveopt,+xsaves,-zu", data_layout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128", iree.encoding.resolver = #iree_cpu.cpu_encoding_resolver<>, max_stack_allocation_size = 32768 : i64, native_vector_size = 64 : i64, target_triple = "x86_64-unknown-unknown-eabi-elf"}>) {
      hal.executable.export public @main$async_dispatch_53_matmul_like_512x128x512_f32 ordinal(0) layout(#hal.pipeline.layout<constants = 6, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) count(%arg0: !hal.device) -> (index, index, index) {
        %x, %y, %z = iree_tensor_ext.dispatch.workgroup_count_from_slice()
        hal.return %x, %y, %z : index, index, index
      }
      builtin.module {
        func.func @main$async_dispatch_53_matmul_like_512x128x512_f32() attributes {translation_info = #iree_codegen.translation_info<pipeline = #iree_cpu.pipeline<DoubleTilingExpert>>} {
          %cst = arith.constant 0.000000e+00 : f32
          %c262144 = arith.constant 262144 : index
          %0 = hal.interface.constant.load layout(<constants = 6, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) ordinal(0) : i32
          %1 = hal.interface.constant.load layout(<constants = 6, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) ordinal(1) : i32
          %2 = hal.interface.constant.load layout(<constants = 6, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) ordinal(2) : i32
          %3 = hal.interface.constant.load layout(<constants = 6, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) ordinal(3) : i32
          %4 = hal.interface.constant.load layout(<constants = 6, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) ordinal(4) : i32
          %5 = hal.interface.constant.load layout(<constants = 6, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) ordinal(5) : i32
          %6 = arith.index_castui %0 : i32 to index
          %7 = arith.index_castui %1 : i32 to index
          %8 = arith.index_castui %2 : i32 to index
          %9 = arith.index_castui %3 : i32 to index
          %10 = arith.index_castui %4 : i32 to index
          %11 = arith.index_castui %5 : i32 to index
          %12:6 = util.assume.int 
              %6[<umin = 9356288, umax = 9356288, udiv = 9356288>, <umin = 8154112, umax = 8154112, udiv = 8154112>, <umin = 6951936, umax = 6951936, udiv = 6951936>, <umin = 5749760, umax = 5749760, udiv = 5749760>], 
              %7[<umin = 26849536, umax = 26849536, udiv = 26849536>, <umin = 26843392, umax = 26843392, udiv = 26843392>, <umin = 26837248, umax = 26837248, udiv = 26837248>, <umin = 26831104, umax = 26831104, udiv = 26831104>], 
              %8[<umin = 37888, umax = 37888, udiv = 37888>, <umin = 39936, umax = 39936, udiv = 39936>, <umin = 41984, umax = 41984, udiv = 41984>, <umin = 44032, umax = 44032, udiv = 44032>], 
              %9[<umin = 26847488, umax = 26847488, udiv = 26847488>, <umin = 26841344, umax = 26841344, udiv = 26841344>, <umin = 26835200, umax = 26835200, udiv = 26835200>, <umin = 26829056, umax = 26829056, udiv = 26829056>], 
              %10[<umin = 26845440, umax = 26845440, udiv = 26845440>, <umin = 26839296, umax = 26839296, udiv = 26839296>, <umin = 26833152, umax = 26833152, udiv = 26833152>, <umin = 26827008, umax = 26827008, udiv = 26827008>], 
              %11[<umin = 524288, umax = 524288, udiv = 524288>, <umin = 937984, umax = 937984, udiv = 937984>, <umin = 524288, umax = 524288, udiv = 524288>, <umin = 937984, umax = 937984, udiv = 937984>]
            : index, index, index, index, index, index
          %13 = hal.interface.binding.subspan layout(<constants = 6, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(0) alignment(64) offset(%c262144) flags("ReadOnly|Indirect") : memref<512x128xf32, strided<[128, 1], offset: ?>, #hal.descriptor_type<storage_buffer>>
          %14 = hal.interface.binding.subspan layout(<constants = 6, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(1) alignment(64) offset(%12#0) flags(ReadOnly) : memref<512x512xf32, strided<[512, 1], offset: ?>, #hal.descriptor_type<storage_buffer>>
          %15 = hal.interface.binding.subspan layout(<constants = 6, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(1) alignment(64) offset(%12#1) flags(ReadOnly) : memref<512xf32, strided<[1], offset: ?>, #hal.descriptor_type<storage_buffer>>
          %16 = hal.interface.binding.subspan layout(<constants = 6, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(1) alignment(64) offset(%12#2) flags(ReadOnly) : memref<512xf32, strided<[1], offset: ?>, #hal.descriptor_type<storage_buffer>>
          %17 = hal.interface.binding.subspan layout(<constants = 6, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(1) alignment(64) offset(%12#3) flags(ReadOnly) : memref<512xf32, strided<[1], offset: ?>, #hal.descriptor_type<storage_buffer>>
          %18 = hal.interface.binding.subspan layout(<constants = 6, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(1) alignment(64) offset(%12#4) flags(ReadOnly) : memref<512xf32, strided<[1], offset: ?>, #hal.descriptor_type<storage_buffer>>
          %19 = hal.interface.binding.subspan layout(<constants = 6, bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(2) alignment(64) offset(%12#5) flags(Indirect) : memref<512x202xf32, strided<[202, 1], offset: ?>, #hal.descriptor_type<storage_buffer>>
          %subview = memref.subview %19[0, 37] [512, 128] [1, 1] : memref<512x202xf32, strided<[202, 1], offset: ?>, #hal.descriptor_type<storage_buffer>> to memref<512x128xf32, strided<[202, 1], offset: ?>, #hal.descriptor_type<storage_buffer>>
          %20 = iree_codegen.load_from_buffer %13 : memref<512x128xf32, strided<[128, 1], offset: ?>, #hal.descriptor_type<storage_buffer>> -> tensor<512x128xf32>
          %21 = iree_codegen.load_from_buffer %14 : memref<512x512xf32, strided<[512, 1], offset: ?>, #hal.descriptor_type<storage_buffer>> -> tensor<512x512xf32>
          %22 = iree_codegen.load_from_buffer %15 : memref<512xf32, strided<[1], offset: ?>, #hal.descriptor_type<storage_buffer>> -> tensor<512xf32>
          %23 = iree_codegen.load_from_buffer %16 : memref<512xf32, strided<[1], offset: ?>, #hal.descriptor_type<storage_buffer>> -> tensor<512xf32>
          %24 = iree_codegen.load_from_buffer %17 : memref<512xf32, strided<[1], offset: ?>, #hal.descriptor_type<storage_buffer>> -> tensor<512xf32>
          %25 = iree_codegen.load_from_buffer %18 : memref<512xf32, strided<[1], offset: ?>, #hal.descriptor_type<storage_buffer>> -> tensor<512xf32>
          %26 = tensor.empty() : tensor<512x128xf32>
          %27 = linalg.fill {lowering_config = #iree_cpu.lowering_config<vector_common_parallel = [8, 16]>} ins(%cst : f32) outs(%26 : tensor<512x128xf32>) -> tensor<512x128xf32>
          %28 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%20, %21 : tensor<512x128xf32>, tensor<512x512xf32>) outs(%27 : tensor<512x128xf32>) attrs =  {lowering_config = #iree_cpu.lowering_config<distribution = [64, 64, 0], vector_common_parallel = [8, 16, 0], vector_reduction = [0, 0, 16]>} {
          ^bb0(%in: f32, %in_0: f32, %out: f32):
            %30 = arith.mulf %in, %in_0 : f32
            %31 = arith.addf %out, %30 : f32
            linalg.yield %31 : f32
          } -> tensor<512x128xf32>
          %29 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%28, %22, %23, %24, %25 : tensor<512x128xf32>, tensor<512xf32>, tensor<512xf32>, tensor<512xf32>, tensor<512xf32>) outs(%26 : tensor<512x128xf32>) attrs =  {lowering_config = #iree_cpu.lowering_config<vector_common_parallel = [8, 16]>} {
          ^bb0(%in: f32, %in_0: f32, %in_1: f32, %in_2: f32, %in_3: f32, %out: f32):
            %30 = arith.subf %in, %in_0 : f32
            %31 = arith.mulf %30, %in_1 : f32
            %32 = arith.mulf %31, %in_2 : f32
            %33 = arith.addf %32, %in_3 : f32
            %34 = arith.cmpf ugt, %33, %cst : f32
            %35 = arith.select %34, %33, %cst : f32
            linalg.yield %35 : f32
          } -> tensor<512x128xf32>
          iree_codegen.store_to_buffer %29, %subview : tensor<512x128xf32> into memref<512x128xf32, strided<[202, 1], offset: ?>, #hal.descriptor_type<storage_buffer>>
          return
        }
        iree_codegen.dispatch_config @main$async_dispatch_53_matmul_like_512x128x512_f32 {
        ^bb0(%arg0: !hal.device):
          %x, %y, %z = iree_tensor_ext.dispatch.workgroup_count_from_slice()
          iree_codegen.yield %x, %y, %z : index, index, index
        }
      }
    }
  }
  util.global private mutable @main$async_dispatch_53_embedded_elf_x86_64_main$async_dispatch_53_matmul_like_512x128x512_f32_buffer : !hal.buffer
  util.initializer {
    %device, %queue_affinity = hal.device.resolve on(#hal.device.affinity<@__device_0>) : !hal.device, i64
    %allocator = hal.device.allocator<%device : !hal.device> : !hal.allocator
    %memory_type = hal.memory_type<"DeviceVisible|DeviceLocal"> : i32
    %buffer_usage = hal.buffer_usage<"TransferSource|TransferTarget|Transfer|DispatchStorageRead|DispatchStorageWrite|DispatchStorage"> : i32
    %c30897408 = arith.constant 30897408 : index
    %buffer = hal.allocator.allocate<%allocator : !hal.allocator> affinity(%queue_affinity) type(%memory_type) usage(%buffer_usage) : !hal.buffer{%c30897408}
    util.global.store %buffer, @main$async_dispatch_53_embedded_elf_x86_64_main$async_dispatch_53_matmul_like_512x128x512_f32_buffer : !hal.buffer
    util.return
  }
  util.func public @main$async_dispatch_53_embedded_elf_x86_64_main$async_dispatch_53_matmul_like_512x128x512_f32(%arg0: i32) attributes {iree.abi.stub, iree.reflection = {iree.benchmark = "dispatch"}} {
    %0 = arith.index_cast %arg0 : i32 to index
    %device, %queue_affinity = hal.device.resolve on(#hal.device.affinity<@__device_0>) : !hal.device, i64
    %cmd = hal.command_buffer.create device(%device : !hal.device) mode("OneShot|AllowInlineExecution") categories(Dispatch) affinity(%queue_affinity) : !hal.command_buffer
    %c5749760_i32 = arith.constant 5749760 : i32
    %c26831104_i32 = arith.constant 26831104 : i32
    %c44032_i32 = arith.constant 44032 : i32
    %c26829056_i32 = arith.constant 26829056 : i32
    %c26827008_i32 = arith.constant 26827008 : i32
    %c937984_i32 = arith.constant 937984 : i32
    %main$async_dispatch_53_embedded_elf_x86_64_main$async_dispatch_53_matmul_like_512x128x512_f32_buffer = util.global.load @main$async_dispatch_53_embedded_elf_x86_64_main$async_dispatch_53_matmul_like_512x128x512_f32_buffer : !hal.buffer
    %c0 = arith.constant 0 : index
    %c1966080 = arith.constant 1966080 : index
    %c26965248 = arith.constant 26965248 : index
    %c28931328 = arith.constant 28931328 : index
    %workgroup_x, %workgroup_y, %workgroup_z = hal.executable.calculate_workgroups device(%device : !hal.device) target(@main$async_dispatch_53::@embedded_elf_x86_64::@main$async_dispatch_53_matmul_like_512x128x512_f32) : index, index, index
    %exe = hal.executable.lookup device(%device : !hal.device) executable(@main$async_dispatch_53) : !hal.executable
    %function_id = hal.executable.lookup.function target(%exe : !hal.executable) function(@main$async_dispatch_53::@embedded_elf_x86_64::@main$async_dispatch_53_matmul_like_512x128x512_f32) : i64
    %c1 = arith.constant 1 : index
    scf.for %arg1 = %c0 to %0 step %c1 {
      hal.command_buffer.dispatch<%cmd : !hal.command_buffer> target(%exe : !hal.executable)[%function_id] workgroups([%workgroup_x, %workgroup_y, %workgroup_z]) constants([%c5749760_i32, %c26831104_i32, %c44032_i32, %c26829056_i32, %c26827008_i32, %c937984_i32]) bindings([
        (%main$async_dispatch_53_embedded_elf_x86_64_main$async_dispatch_53_matmul_like_512x128x512_f32_buffer : !hal.buffer)[%c0, %c1966080], 
        (%main$async_dispatch_53_embedded_elf_x86_64_main$async_dispatch_53_matmul_like_512x128x512_f32_buffer : !hal.buffer)[%c1966080, %c26965248], 
        (%main$async_dispatch_53_embedded_elf_x86_64_main$async_dispatch_53_matmul_like_512x128x512_f32_buffer : !hal.buffer)[%c28931328, %c1966080]
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
