// Method tables of the NativeEngine class, one per binding file.
#pragma once

#include <node_api.h>

#include <vector>

namespace tdmpc {

using Methods = std::vector<napi_property_descriptor>;

inline void add_method(Methods& m, const char* name, napi_callback cb) {
  m.push_back({name, nullptr, cb, nullptr, nullptr, nullptr, napi_default_method, nullptr});
}

void add_gemm_methods(Methods& m);       // bind_gemm.cc: gemm, gemmBatched, normedLinear*
void add_op_methods(Methods& m);         // bind_ops.cc: activations, row-wise, two-hot, KL
void add_plumbing_methods(Methods& m);   // bind_plumbing.cc: reductions, copies, optimizer, RNG, peak

/** Defines the NativeEngine class (engine_object.cc). */
napi_value define_engine_class(napi_env env);

/** The module function helpEngine (engine_object.cc). */
napi_value help_engine(napi_env env, napi_callback_info info);

}  // namespace tdmpc
