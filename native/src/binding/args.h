// Argument reading and validation for the engine methods, mirroring src/engine/validate.ts: the
// same checks in the same order with the same messages ("<op>: <what> (<shape>)"), so a ShapeError
// reads alike from either backend. Validation is what makes an out-of-bounds access impossible:
// every pointer handed to a kernel has been checked to cover what the kernel touches.
//
// The success path only reads numbers and typed-array pointers (one N-API call per argument) and
// records the dims' napi_values; strings are built only when throwing.
#pragma once

#include <node_api.h>

#include <memory>
#include <string>

#include "context.h"
#include "kernels.h"

namespace tdmpc {

/** What a JS NativeEngine object wraps. */
struct EngineObject {
  std::unique_ptr<Context> ctx;
  napi_ref shape_error = nullptr;  // the ShapeError class passed to the constructor
  bool disposed = false;
};

class Call {
 public:
  static constexpr int kMaxArgs = 40;
  static constexpr int kMaxRecorded = 16;

  /** Reads the arguments and the engine behind `this`; throws if the engine was disposed. */
  Call(napi_env env, napi_callback_info info, const char* op);

  bool ok() const { return !failed_; }
  napi_env env() const { return env_; }
  Context& ctx() const { return *engine_->ctx; }

  /** Records a size shown in messages; its validity is checked by check_dims(). */
  i64 dim(int arg, const char* name);
  /** Records a boolean (truthiness, shown as 0/1) and returns it. */
  bool flag(int arg, const char* name);
  /** Reads a boolean without recording it. */
  bool boolean(int arg);
  /** Reads a number argument (NaN when it is not a number). */
  double number(int arg);
  /** Throws unless every recorded dim is a non-negative integer (and at most 2^53, a native limit). */
  bool check_dims();
  /** Checks a required Float32Array holding `needed` floats from the offset in argument off_arg. */
  float* buffer(int arg, int off_arg, const char* name, double needed);
  /** Like buffer(), but null means "not wanted" and returns nullptr (its offset is ignored). */
  float* optional(int arg, int off_arg, const char* name, double needed);
  /** Throws if two checked ranges share memory. */
  void no_overlap(const char* name_a, const float* a, double na, const char* name_b, const float* b, double nb);
  /** Throws ShapeError "<op>: <what> (<shape>)". */
  void fail(const std::string& what);
  /** Throws a plain Error "<op>: <what>" (out of memory, disposed engine). */
  void fail_error(const std::string& what);

  /** JavaScript's String(v) for the recorded argument arg (numbers as JS prints them). */
  std::string str(int arg) const;
  static std::string js_number(double v);

 private:
  std::string shape() const;

  napi_env env_;
  const char* op_;
  EngineObject* engine_ = nullptr;
  size_t argc_ = kMaxArgs;
  napi_value argv_[kMaxArgs];
  bool failed_ = false;
  int nrec_ = 0;
  const char* rec_name_[kMaxRecorded];
  int rec_arg_[kMaxRecorded];
  double rec_value_[kMaxRecorded];  // NaN for a non-number dim
  bool rec_flag_[kMaxRecorded];
};

}  // namespace tdmpc
