# Node-API addon with the native compute engine (built by scripts/build-native.mjs during npm install).
# No -march=native: every SIMD path is compiled into the one binary and picked at run time (src/cpu.cc).
# The AVX-512 and AVX2 kernels get their instruction sets from `#pragma GCC target` inside
# src/isa_avx512.cc and src/isa_avx2.cc, so the rest of the addon stays baseline x86-64.
{
  "targets": [
    {
      "target_name": "tdmpc_native",
      "sources": [
        "src/cpu.cc",
        "src/threadpool.cc",
        "src/context.cc",
        "src/rng.cc",
        "src/isa_scalar.cc",
        "src/isa_avx2.cc",
        "src/isa_avx512.cc",
        "src/peak.cc",
        "src/binding/args.cc",
        "src/binding/engine_object.cc",
        "src/binding/bind_gemm.cc",
        "src/binding/bind_ops.cc",
        "src/binding/bind_plumbing.cc",
        "src/binding/addon.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "src"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": [
        "-std=c++17", "-O3", "-fno-exceptions", "-fno-math-errno", "-ffp-contract=off",
        "-fno-semantic-interposition", "-Wall", "-Wextra", "-Wno-unused-parameter"
      ],
      "ldflags": ["-pthread"]
    }
  ]
}
