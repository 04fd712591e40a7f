hal.executable public @main$async_dispatch_13 {
  hal.executable.variant public @embedded_elf_x86_64 target(<"llvm-cpu", "embedded-elf-x86_64", {cpu = "znver5", cpu_features = "+adx,+aes,+avx,+avx2,+avx512bf16,+avx512bitalg,+avx512bw,+avx512cd,+avx512dq,+avx512f,+avx512ifma,+avx512vbmi,+avx512vbmi2,+avx512vl,+avx512vnni,+avx512vp2intersect,+avx512vpopcntdq,+avxvnni,+bmi,+bmi2,+clflushopt,+clwb,+clzero,+crc32,+cx16,+cx8,+f16c,+fma,+fsgsbase,+fxsr,+gfni,+invpcid,+lzcnt,+mmx,+movbe,+movdir64b,+movdiri,+mwaitx,+pclmul,+pku,+popcnt,+prefetchi,+prfchw,+rdpid,+rdpru,+rdrnd,+rdseed,+sahf,+sha,+shstk,+sse,+sse2,+sse3,+sse4.1,+sse4.2,+sse4a,+ssse3,+vaes,+vpclmulqdq,+wbnoinvd,+x87,+xsave,+xsavec,+xsaveopt,+xsaves,+64bit,+adx,+aes,-amx-avx512,-amx-bf16,-amx-complex,-amx-fp16,-amx-fp8,-amx-int8,-amx-movrs,-amx-tile,+avx,-avx10.1,-avx10.2,-avx10v2aux,+avx2,+avx512bf16,+avx512bitalg,-avx512bmm,+avx512bw,+avx512cd,+avx512dq,+avx512f,-avx512fp16,+avx512ifma,+avx512vbmi,+avx512vbmi2,+avx512vl,+avx512vnni,+avx512vp2intersect,+avx512vpopcntdq,-avxifma,-avxneconvert,+avxvnni,-avxvnniint16,-avxvnniint8,+bmi,+bmi2,-ccmp,-cf,-cldemote,+clflushopt,+clwb,+clzero,+cmov,-cmpccxadd,+crc32,+cx16,+cx8,-egpr,-enqcmd,+f16c,+fma,-fma4,+fsgsbase,+fxsr,+gfni,-hreset,+invpcid,-jmpabs,-kl,-lwp,+lzcnt,+mmx,+movbe,-movdir64b,-movdiri,-movrs,-mwaitx,-ndd,-nf,+pclmul,-pconfig,-pku,+popcnt,-ppx,-prefetchi,+prfchw,-ptwrite,-push2pop2,-raoint,+rdpid,-rdpru,+rdrnd,+rdseed,-rtm,+sahf,-serialize,-sgx,+sha,-sha512,+shstk,-sm3,-sm4,+sse,+sse2,+sse3,+sse4.1,+sse4.2,+sse4a,+ssse3,-tbm,-tsxldtrk,-uintr,-usermsr,+vaes,+vpclmulqdq,-waitpkg,-wbnoinvd,-widekl,-xop,+xsave,+xsavec,+xsaveopt,+xsaves,-zu", data_layout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128", iree.encoding.resolver = #iree_cpu.cpu_encoding_resolver<>, max_stack_allocation_size = 32768 : i64, native_vector_size = 64 : i64, target_triple = "x86_64-unknown-unknown-eabi-elf"}>) {
    hal.executable.export public @main$async_dispatch_13_matmul_3136x24x144_f32 ordinal(0) layout(#hal.pipeline.layout<bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) count(%arg0: !hal.device) -> (index, index, index) {
      %x, %y, %z = iree_tensor_ext.dispatch.workgroup_count_from_slice()
      hal.return %x, %y, %z : index, index, index
    }
    builtin.module {
      func.func @main$async_dispatch_13_matmul_3136x24x144_f32() attributes {translation_info = #iree_codegen.translation_info<pipeline = #iree_cpu.pipeline<DoubleTilingExpert>>} {
        %cst = arith.constant 0.000000e+00 : f32
        %cst_0 = arith.constant dense_resource<torch_tensor_24_torch.float32_4> : tensor<24xf32>
        %cst_1 = arith.constant dense_resource<torch_tensor_24_torch.float32_6> : tensor<24xf32>
        %cst_2 = arith.constant dense_resource<torch_tensor_24_torch.float32_7> : tensor<24xf32>
        %c1505280 = arith.constant 1505280 : index
        %c1204224 = arith.constant 1204224 : index
        %c300352 = arith.constant 300352 : index
        %c5824 = arith.constant 5824 : index
        %c0 = arith.constant 0 : index
        %0 = hal.interface.binding.subspan layout(<bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(0) alignment(64) offset(%c1505280) flags("ReadOnly|Indirect") : memref<3136x144xf32, strided<[144, 1], offset: ?>, #hal.descriptor_type<storage_buffer>>
        %1 = hal.interface.binding.subspan layout(<bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(1) alignment(64) offset(%c300352) flags(ReadOnly) : memref<24x144xf32, strided<[144, 1], offset: ?>, #hal.descriptor_type<storage_buffer>>
        %2 = hal.interface.binding.subspan layout(<bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(0) alignment(64) offset(%c1204224) flags("ReadOnly|Indirect") : memref<3136x24xf32, strided<[24, 1], offset: ?>, #hal.descriptor_type<storage_buffer>>
        %3 = hal.interface.binding.subspan layout(<bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(1) alignment(64) offset(%c5824) flags(ReadOnly) : memref<24xf32, strided<[1], offset: ?>, #hal.descriptor_type<storage_buffer>>
        %4 = hal.interface.binding.subspan layout(<bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(2) alignment(64) offset(%c0) flags(Indirect) : memref<3136x24xf32, #hal.descriptor_type<storage_buffer>>
        %5 = iree_codegen.load_from_buffer %0 : memref<3136x144xf32, strided<[144, 1], offset: ?>, #hal.descriptor_type<storage_buffer>> -> tensor<3136x144xf32>
        %6 = iree_codegen.load_from_buffer %1 : memref<24x144xf32, strided<[144, 1], offset: ?>, #hal.descriptor_type<storage_buffer>> -> tensor<24x144xf32>
        %7 = iree_codegen.load_from_buffer %2 : memref<3136x24xf32, strided<[24, 1], offset: ?>, #hal.descriptor_type<storage_buffer>> -> tensor<3136x24xf32>
        %8 = iree_codegen.load_from_buffer %3 : memref<24xf32, strided<[1], offset: ?>, #hal.descriptor_type<storage_buffer>> -> tensor<24xf32>
        %9 = tensor.empty() : tensor<3136x24xf32>
        %10 = linalg.fill {lowering_config = #iree_cpu.lowering_config<vector_common_parallel = [8, 16]>} ins(%cst : f32) outs(%9 : tensor<3136x24xf32>) -> tensor<3136x24xf32>
        %11 = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] {lowering_config = #iree_cpu.lowering_config<distribution = [64, 24, 0], vector_common_parallel = [8, 8, 0], vector_reduction = [0, 0, 16]>} ins(%5, %6 : tensor<3136x144xf32>, tensor<24x144xf32>) outs(%10 : tensor<3136x24xf32>) -> tensor<3136x24xf32>
        %12 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%7, %11, %cst_0, %8, %cst_1, %cst_2 : tensor<3136x24xf32>, tensor<3136x24xf32>, tensor<24xf32>, tensor<24xf32>, tensor<24xf32>, tensor<24xf32>) outs(%9 : tensor<3136x24xf32>) attrs =  {lowering_config = #iree_cpu.lowering_config<vector_common_parallel = [8, 16]>} {
        ^bb0(%in: f32, %in_3: f32, %in_4: f32, %in_5: f32, %in_6: f32, %in_7: f32, %out: f32):
          %13 = arith.subf %in_3, %in_4 : f32
          %14 = arith.mulf %13, %in_5 : f32
          %15 = arith.mulf %14, %in_6 : f32
          %16 = arith.addf %15, %in_7 : f32
          %17 = arith.addf %in, %16 : f32
          linalg.yield %17 : f32
        } -> tensor<3136x24xf32>
        iree_codegen.store_to_buffer %12, %4 : tensor<3136x24xf32> into memref<3136x24xf32, #hal.descriptor_type<storage_buffer>>
        return
      }
      iree_codegen.dispatch_config @main$async_dispatch_13_matmul_3136x24x144_f32 {
      ^bb0(%arg0: !hal.device):
        %x, %y, %z = iree_tensor_ext.dispatch.workgroup_count_from_slice()
        iree_codegen.yield %x, %y, %z : index, index, index
      }
    }
  }
}

{-#
  dialect_resources: {
    builtin: {
      torch_tensor_24_torch.float32_4: "0x040000007B6095BECE9351BD0178C1BE2D6C853F0D2AA63CC83D0A407B10D83F213F8D3ED97020C0DE5F3BBF876001BF4C3ECCBE69740FC09E42F9BD6DE949C018D8F6BF8A6E6DBE64830CBF4735933FED9501C0BA1945BFDAABC9BF68B118C03F6927BF",
      torch_tensor_24_torch.float32_6: "0x04000000200CA13FAB3B293FF6DD8C3F0B2E613FBBB5683F749B373FA2D0893F9C67373F41F96A3FBB257A3F2F951F3F4B53163F8B867E3F30D67E3FC4A8973FB458A03FF3CEAE3F41CFB93F2354803FA16C963F063B963FC964513F96FAA43F0197BC3F",
      torch_tensor_24_torch.float32_7: "0x040000009D5B323ED7C2853D025D68BD6CC73BBEE14D273CD81CE23D53AC17BEAD0B053D588D1A3E453D78BC5B3E443EFA48F13B0791D0BD9BBB74BD56963E3BBB99C7BC72A652BEB8EF1FBEF804C2BB7881D73AF04B6FBD0ADA33BC1B2CDF3D2A33983D"
    }
  }
#-}
