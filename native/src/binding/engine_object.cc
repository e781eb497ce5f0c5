// The NativeEngine class: `new NativeEngine(threads, simd, ShapeError)` creates one Context (thread
// pool, scratch buffers, kernel table of the chosen SIMD path); dispose() joins the pool. The class
// is defined with the plain Node-API C interface: its methods run millions of times, and reading
// the arguments straight into a fixed array avoids node-addon-api's per-call CallbackInfo vector.
#include <cstdlib>
#include <string>

#include "binding/args.h"
#include "binding/methods.h"
#include "cpu.h"

namespace tdmpc {

static void finalize_engine(napi_env env, void* data, void*) {
  auto* eng = static_cast<EngineObject*>(data);
  if (eng->shape_error) napi_delete_reference(env, eng->shape_error);
  delete eng;  // ~Context joins the pool's threads
}

/** SIMD path: the argument if given, else env TDMPC_SIMD, else the best; never above the best. */
static bool choose_simd(napi_env env, napi_value arg, Simd* out) {
  std::string req;
  napi_valuetype t;
  napi_typeof(env, arg, &t);
  if (t == napi_string) {
    char buf[32];
    size_t len;
    napi_get_value_string_utf8(env, arg, buf, sizeof(buf), &len);
    req.assign(buf, len);
  } else if (const char* e = std::getenv("TDMPC_SIMD")) {
    req = e;
  }
  Simd s = best_simd();
  if (!req.empty()) {
    Simd r;
    if (!parse_simd(req.c_str(), &r)) {
      napi_throw_type_error(env, nullptr,
                            ("TDMPC_SIMD must be avx512, avx2 or scalar (to force a lower path), got '" + req + "'").c_str());
      return false;
    }
    if (int(r) < int(s)) s = r;
  }
  *out = s;
  return true;
}

static napi_value construct(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], self;
  napi_get_cb_info(env, info, &argc, argv, &self, nullptr);
  double threads = 1;
  napi_valuetype t0;
  napi_typeof(env, argv[0], &t0);
  if (t0 != napi_undefined && napi_get_value_double(env, argv[0], &threads) != napi_ok) threads = -1;
  if (!(threads >= 1 && threads <= 64 && threads == double(int(threads)))) {
    napi_throw_range_error(env, nullptr, "NativeEngine: threads must be an integer in [1, 64]");
    return nullptr;
  }
  Simd simd;
  if (!choose_simd(env, argv[1], &simd)) return nullptr;

  auto* eng = new EngineObject();
  eng->ctx.reset(new Context(int(threads), simd));
  napi_valuetype t2;
  napi_typeof(env, argv[2], &t2);
  if (t2 == napi_function) napi_create_reference(env, argv[2], 1, &eng->shape_error);
  if (napi_wrap(env, self, eng, finalize_engine, nullptr, nullptr) != napi_ok) {
    finalize_engine(env, eng, nullptr);
    napi_throw_error(env, nullptr, "NativeEngine: could not wrap the engine object");
    return nullptr;
  }
  napi_value v_threads, v_simd;
  napi_create_int32(env, int(threads), &v_threads);
  napi_create_string_utf8(env, simd_name(simd), NAPI_AUTO_LENGTH, &v_simd);
  const napi_property_descriptor props[] = {
      {"threads", nullptr, nullptr, nullptr, nullptr, v_threads, napi_enumerable, nullptr},
      {"simd", nullptr, nullptr, nullptr, nullptr, v_simd, napi_enumerable, nullptr},
  };
  napi_define_properties(env, self, 2, props);
  return self;
}

static napi_value dispose(napi_env env, napi_callback_info info) {
  napi_value self;
  size_t argc = 0;
  napi_get_cb_info(env, info, &argc, nullptr, &self, nullptr);
  EngineObject* eng = nullptr;
  if (napi_unwrap(env, self, reinterpret_cast<void**>(&eng)) == napi_ok && eng && !eng->disposed) {
    eng->ctx->pool.shutdown();
    eng->disposed = true;
  }
  return nullptr;
}

napi_value define_engine_class(napi_env env) {
  Methods m;
  add_method(m, "dispose", dispose);
  add_gemm_methods(m);
  add_op_methods(m);
  add_plumbing_methods(m);
  napi_value cls = nullptr;
  napi_define_class(env, "NativeEngine", NAPI_AUTO_LENGTH, construct, nullptr, m.size(), m.data(), &cls);
  return cls;
}

}  // namespace tdmpc
