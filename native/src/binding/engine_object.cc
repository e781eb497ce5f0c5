// The NativeEngine class: `new NativeEngine(threads, simd, ShapeError, guestSeats)` creates one
// Context (thread pool, scratch buffers, kernel table of the chosen SIMD path); dispose() joins the
// pool. offerGuestSeat(id) lists the pool for helpEngine() (threadpool.h, "Guest seats"). The class
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

/** An optional integer argument in [lo, hi]: `fallback` when undefined; false when out of range or not a number. */
static bool int_option(napi_env env, napi_value arg, int fallback, int lo, int hi, int* out) {
  napi_valuetype t;
  napi_typeof(env, arg, &t);
  double v = fallback;
  if (t != napi_undefined && napi_get_value_double(env, arg, &v) != napi_ok) return false;
  if (!(v >= lo && v <= hi && v == double(int(v)))) return false;
  *out = int(v);
  return true;
}

static napi_value construct(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], self;
  napi_get_cb_info(env, info, &argc, argv, &self, nullptr);
  int threads = 1, guests = 0;
  if (!int_option(env, argv[0], 1, 1, 64, &threads)) {
    napi_throw_range_error(env, nullptr, "NativeEngine: threads must be an integer in [1, 64]");
    return nullptr;
  }
  Simd simd;
  if (!choose_simd(env, argv[1], &simd)) return nullptr;
  if (!int_option(env, argv[3], 0, 0, 1, &guests)) {
    napi_throw_range_error(env, nullptr, "NativeEngine: guestSeats must be 0 or 1");
    return nullptr;
  }

  auto* eng = new EngineObject();
  eng->ctx.reset(new Context(threads, simd, guests));
  napi_valuetype t2;
  napi_typeof(env, argv[2], &t2);
  if (t2 == napi_function) napi_create_reference(env, argv[2], 1, &eng->shape_error);
  if (napi_wrap(env, self, eng, finalize_engine, nullptr, nullptr) != napi_ok) {
    finalize_engine(env, eng, nullptr);
    napi_throw_error(env, nullptr, "NativeEngine: could not wrap the engine object");
    return nullptr;
  }
  napi_value v_threads, v_simd;
  napi_create_int32(env, threads, &v_threads);
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

/** offerGuestSeat(id): lists this engine's pool under id for helpEngine(); false without a guest seat. */
static napi_value offer_guest_seat(napi_env env, napi_callback_info info) {
  napi_value self, argv[1];
  size_t argc = 1;
  napi_get_cb_info(env, info, &argc, argv, &self, nullptr);
  EngineObject* eng = nullptr;
  int32_t id = 0;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &id) != napi_ok) {
    napi_throw_type_error(env, nullptr, "offerGuestSeat: id must be an int32");
    return nullptr;
  }
  bool ok = false;
  if (napi_unwrap(env, self, reinterpret_cast<void**>(&eng)) == napi_ok && eng && !eng->disposed) ok = eng->ctx->pool.offer_guest_seat(id);
  napi_value out;
  napi_get_boolean(env, ok, &out);
  return out;
}

/**
 * helpEngine(id, i32, index, expected, maxMs): lends the calling thread to the engine listed under
 * id while Atomics.load(i32, index) === expected, for at most maxMs; returns the jobs joined, -1 if
 * that engine's guest seat is busy or it is shutting down, -2 if no engine is listed under id.
 * i32 must be an Int32Array (normally over a SharedArrayBuffer written by another thread).
 */
napi_value help_engine(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  size_t argc = 5;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int32_t id = 0, index = 0, expected = 0;
  double max_ms = 0;
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  bool is_ta = false;
  if (argc == 5) napi_is_typedarray(env, argv[1], &is_ta);
  if (argc != 5 || napi_get_value_int32(env, argv[0], &id) != napi_ok || !is_ta ||
      napi_get_typedarray_info(env, argv[1], &type, &length, &data, nullptr, nullptr) != napi_ok || type != napi_int32_array ||
      napi_get_value_int32(env, argv[2], &index) != napi_ok || napi_get_value_int32(env, argv[3], &expected) != napi_ok ||
      napi_get_value_double(env, argv[4], &max_ms) != napi_ok) {
    napi_throw_type_error(env, nullptr, "helpEngine(id, i32: Int32Array, index, expected, maxMs): bad arguments");
    return nullptr;
  }
  if (index < 0 || size_t(index) >= length || !(max_ms >= 0 && max_ms <= 10000)) {
    napi_throw_range_error(env, nullptr, ("helpEngine: index " + std::to_string(index) + " outside the Int32Array of length " +
                                          std::to_string(length) + ", or maxMs outside [0, 10000]").c_str());
    return nullptr;
  }
  const int r = ThreadPool::help_pool(id, static_cast<const int32_t*>(data) + index, expected, max_ms);
  napi_value out;
  napi_create_int32(env, r, &out);
  return out;
}

napi_value define_engine_class(napi_env env) {
  Methods m;
  add_method(m, "dispose", dispose);
  add_method(m, "offerGuestSeat", offer_guest_seat);
  add_gemm_methods(m);
  add_op_methods(m);
  add_plumbing_methods(m);
  napi_value cls = nullptr;
  napi_define_class(env, "NativeEngine", NAPI_AUTO_LENGTH, construct, nullptr, m.size(), m.data(), &cls);
  return cls;
}

}  // namespace tdmpc
