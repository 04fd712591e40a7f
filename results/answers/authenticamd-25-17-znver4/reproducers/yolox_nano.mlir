hal.executable public @main$async_dispatch_13 {
  hal.executable.variant public @embedded_elf_x86_64 target(<"llvm-cpu", "embedded-elf-x86_64", {cpu = "znver4", cpu_features = "+adx,+aes,+avx,+avx2,+avx512bf16,+avx512bitalg,+avx512bw,+avx512cd,+avx512dq,+avx512f,+avx512ifma,+avx512vbmi,+avx512vbmi2,+avx512vl,+avx512vnni,+avx512vpopcntdq,+bmi,+bmi2,+clflushopt,+clwb,+clzero,+crc32,+cx16,+cx8,+f16c,+fma,+fsgsbase,+fxsr,+gfni,+invpcid,+lzcnt,+mmx,+movbe,+mwaitx,+pclmul,+pku,+popcnt,+prfchw,+rdpid,+rdpru,+rdrnd,+rdseed,+sahf,+sha,+shstk,+sse,+sse2,+sse3,+sse4.1,+sse4.2,+sse4a,+ssse3,+vaes,+vpclmulqdq,+wbnoinvd,+x87,+xsave,+xsavec,+xsaveopt,+xsaves,+64bit,+adx,+aes,-amx-avx512,-amx-bf16,-amx-complex,-amx-fp16,-amx-fp8,-amx-int8,-amx-movrs,-amx-tile,+avx,-avx10.1,-avx10.2,-avx10v2aux,+avx2,+avx512bf16,+avx512bitalg,-avx512bmm,+avx512bw,+avx512cd,+avx512dq,+avx512f,-avx512fp16,+avx512ifma,+avx512vbmi,+avx512vbmi2,+avx512vl,+avx512vnni,-avx512vp2intersect,+avx512vpopcntdq,-avxifma,-avxneconvert,-avxvnni,-avxvnniint16,-avxvnniint8,+bmi,+bmi2,-ccmp,-cf,-cldemote,+clflushopt,+clwb,+clzero,+cmov,-cmpccxadd,+crc32,+cx16,+cx8,-egpr,-enqcmd,+f16c,+fma,-fma4,+fsgsbase,+fxsr,+gfni,-hreset,+invpcid,-jmpabs,-kl,-lwp,+lzcnt,+mmx,+movbe,-movdir64b,-movdiri,-movrs,-mwaitx,-ndd,-nf,+pclmul,-pconfig,-pku,+popcnt,-ppx,-prefetchi,+prfchw,-ptwrite,-push2pop2,-raoint,+rdpid,-rdpru,+rdrnd,+rdseed,-rtm,+sahf,-serialize,-sgx,+sha,-sha512,+shstk,-sm3,-sm4,+sse,+sse2,+sse3,+sse4.1,+sse4.2,+sse4a,+ssse3,-tbm,-tsxldtrk,-uintr,-usermsr,+vaes,+vpclmulqdq,-waitpkg,-wbnoinvd,-widekl,-xop,+xsave,+xsavec,+xsaveopt,+xsaves,-zu", data_layout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128", iree.encoding.resolver = #iree_cpu.cpu_encoding_resolver<>, loop_unrolling = true, max_stack_allocation_size = 1048576 : i64, native_vector_size = 64 : i64, target_triple = "x86_64-unknown-unknown-eabi-elf"}>) {
    hal.executable.export public @main$async_dispatch_13_matmul_like_32x104x104x32_f32 ordinal(0) layout(#hal.pipeline.layout<bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) count(%arg0: !hal.device) -> (index, index, index) {
      %x, %y, %z = iree_tensor_ext.dispatch.workgroup_count_from_slice()
      hal.return %x, %y, %z : index, index, index
    }
    builtin.module {
      func.func @main$async_dispatch_13_matmul_like_32x104x104x32_f32() {
        %cst = arith.constant 0.000000e+00 : f32
        %cst_0 = arith.constant 1.000000e+00 : f32
        %cst_1 = arith.constant dense_resource<torch_tensor_32_torch.float32_4> : tensor<32xf32>
        %cst_2 = arith.constant dense_resource<torch_tensor_32_torch.float32_6> : tensor<32xf32>
        %cst_3 = arith.constant dense_resource<torch_tensor_32_torch.float32_7> : tensor<32xf32>
        %c4180224 = arith.constant 4180224 : index
        %c15232 = arith.constant 15232 : index
        %c256 = arith.constant 256 : index
        %c5564672 = arith.constant 5564672 : index
        %0 = hal.interface.binding.subspan layout(<bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(0) alignment(64) offset(%c4180224) flags("ReadOnly|Indirect") : !iree_tensor_ext.dispatch.tensor<readonly:tensor<32x104x104xf32>>
        %1 = hal.interface.binding.subspan layout(<bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(1) alignment(64) offset(%c15232) flags(ReadOnly) : !iree_tensor_ext.dispatch.tensor<readonly:tensor<32x32xf32>>
        %2 = hal.interface.binding.subspan layout(<bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(1) alignment(64) offset(%c256) flags(ReadOnly) : !iree_tensor_ext.dispatch.tensor<readonly:tensor<32xf32>>
        %3 = hal.interface.binding.subspan layout(<bindings = [#hal.pipeline.binding<storage_buffer, "ReadOnly|Indirect">, #hal.pipeline.binding<storage_buffer, ReadOnly>, #hal.pipeline.binding<storage_buffer, Indirect>], flags = Indirect>) binding(2) alignment(64) offset(%c5564672) flags(Indirect) : !iree_tensor_ext.dispatch.tensor<readwrite:tensor<32x106x106xf32>>
        %4 = iree_tensor_ext.dispatch.tensor.load %0, offsets = [0, 0, 0], sizes = [32, 104, 104], strides = [1, 1, 1] : !iree_tensor_ext.dispatch.tensor<readonly:tensor<32x104x104xf32>> -> tensor<32x104x104xf32>
        %5 = iree_tensor_ext.dispatch.tensor.load %1, offsets = [0, 0], sizes = [32, 32], strides = [1, 1] : !iree_tensor_ext.dispatch.tensor<readonly:tensor<32x32xf32>> -> tensor<32x32xf32>
        %6 = iree_tensor_ext.dispatch.tensor.load %2, offsets = [0], sizes = [32], strides = [1] : !iree_tensor_ext.dispatch.tensor<readonly:tensor<32xf32>> -> tensor<32xf32>
        %7 = tensor.empty() : tensor<32x104x104xf32>
        %8 = linalg.fill ins(%cst : f32) outs(%7 : tensor<32x104x104xf32>) -> tensor<32x104x104xf32>
        %9 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d3, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%4, %5 : tensor<32x104x104xf32>, tensor<32x32xf32>) outs(%8 : tensor<32x104x104xf32>) {
        ^bb0(%in: f32, %in_4: f32, %out: f32):
          %11 = arith.mulf %in, %in_4 : f32
          %12 = arith.addf %out, %11 : f32
          linalg.yield %12 : f32
        } -> tensor<32x104x104xf32>
        %10 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0)>, affine_map<(d0, d1, d2) -> (d0)>, affine_map<(d0, d1, d2) -> (d0)>, affine_map<(d0, d1, d2) -> (d0)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%9, %cst_1, %6, %cst_2, %cst_3 : tensor<32x104x104xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>) outs(%7 : tensor<32x104x104xf32>) {
        ^bb0(%in: f32, %in_4: f32, %in_5: f32, %in_6: f32, %in_7: f32, %out: f32):
          %11 = arith.subf %in, %in_4 : f32
          %12 = arith.mulf %11, %in_5 : f32
          %13 = arith.mulf %12, %in_6 : f32
          %14 = arith.addf %13, %in_7 : f32
          %15 = arith.negf %14 : f32
          %16 = math.exp %15 : f32
          %17 = arith.addf %16, %cst_0 : f32
          %18 = arith.divf %cst_0, %17 : f32
          %19 = arith.mulf %18, %14 : f32
          linalg.yield %19 : f32
        } -> tensor<32x104x104xf32>
        iree_tensor_ext.dispatch.tensor.store %10, %3, offsets = [0, 1, 1], sizes = [32, 104, 104], strides = [1, 1, 1] : tensor<32x104x104xf32> -> !iree_tensor_ext.dispatch.tensor<readwrite:tensor<32x106x106xf32>>
        return
      }
    }
  }
}

{-#
  dialect_resources: {
    builtin: {
      torch_tensor_32_torch.float32_4: "0x04000000A6D31C3EB9EC90BCE90FC43EE4CF6ABCABA204BFB568C7BD2551353C5AD9943E0FD6663DEF1C09BEB37F293E2A3A12BEE553BEBEAFA7C8BD7A52D7BD201709BE57846B3EB52D8CBD3E9F2E3EBA99FA3D2D84AD3E867A8A3DCCBFD63DE56E043E53811C3C512C0E3EE36E7D3C5DD809BE35FA33BE91A8663E959C803D39ABF9BE",
      torch_tensor_32_torch.float32_6: "0x04000000203B9D3FC129973F6F4BB93F13E28D3FCB52343FD317A53F5031103FB22AA93FA027143F51CB8E3FFA1F693F5461353F54C4BB3FA7B9013F852BBB3F4D1DB73FD4FC693F51B59F3F7489BE3F6B8B773F6A2C943F76FA213FCF2B503F2951AE3F82A38A3F6BADA03F0557883FCF219B3F6FD33E3FE6E6A33F9D16413FC452803F",
      torch_tensor_32_torch.float32_7: "0x04000000A872E5BCF5C037BD817817BE4622F13DC07E01BD4CDA59BD1B0421BDF51986BD989559BD6C4723BE48CF9D3D563A563DA7924B3C94D5A53D7E48443E71C5833EA7119BBE5106EFBD02A310BEA02EB4BDB9E8453DA1A103BD71740DBE0D9BDDBCC690D23D0200633CCC917CBD702E0B3D6A23383E53D1FA3DC603183D656EAEBD"
    }
  }
#-}
