#include "binding/args.h"

#include <charconv>
#include <cmath>
#include <cstring>

namespace tdmpc {

static const double kMaxDim = 9007199254740992.0;  // 2^53: every integer below converts exactly to i64

Call::Call(napi_env env, napi_callback_info info, const char* op) : env_(env), op_(op) {
  napi_value self;
  if (napi_get_cb_info(env, info, &argc_, argv_, &self, nullptr) != napi_ok ||
      napi_unwrap(env, self, reinterpret_cast<void**>(&engine_)) != napi_ok || engine_ == nullptr) {
    failed_ = true;
    napi_throw_type_error(env, nullptr, (std::string(op) + ": called on an object that is not a NativeEngine").c_str());
    return;
  }
  if (engine_->disposed) fail_error("the engine was disposed; create a new one");
}

double Call::number(int arg) {
  double v;
  if (napi_get_value_double(env_, argv_[arg], &v) != napi_ok) return std::nan("");
  return v;
}

bool Call::boolean(int arg) {
  bool b;
  if (napi_get_value_bool(env_, argv_[arg], &b) == napi_ok) return b;
  napi_value coerced;
  if (napi_coerce_to_bool(env_, argv_[arg], &coerced) != napi_ok) return false;
  napi_get_value_bool(env_, coerced, &b);
  return b;
}

i64 Call::dim(int arg, const char* name) {
  const double v = number(arg);
  if (nrec_ < kMaxRecorded) {
    rec_name_[nrec_] = name;
    rec_arg_[nrec_] = arg;
    rec_value_[nrec_] = v;
    rec_flag_[nrec_] = false;
    ++nrec_;
  }
  return (v >= 0 && v <= kMaxDim) ? i64(v) : 0;
}

bool Call::flag(int arg, const char* name) {
  const bool b = boolean(arg);
  if (nrec_ < kMaxRecorded) {
    rec_name_[nrec_] = name;
    rec_arg_[nrec_] = arg;
    rec_value_[nrec_] = b ? 1 : 0;
    rec_flag_[nrec_] = true;
    ++nrec_;
  }
  return b;
}

bool Call::check_dims() {
  if (failed_) return false;
  for (int i = 0; i < nrec_; ++i) {
    if (rec_flag_[i]) continue;
    const double v = rec_value_[i];
    if (!(std::isfinite(v) && v >= 0 && std::floor(v) == v)) {
      fail(std::string(rec_name_[i]) + " must be a non-negative integer, got " + str(rec_arg_[i]));
      return false;
    }
    if (v > kMaxDim) {
      fail(std::string(rec_name_[i]) + " must be at most 2^53 in the native engine, got " + str(rec_arg_[i]));
      return false;
    }
  }
  return true;
}

static const char* typed_array_name(napi_typedarray_type t) {
  switch (t) {
    case napi_int8_array: return "Int8Array";
    case napi_uint8_array: return "Uint8Array";
    case napi_uint8_clamped_array: return "Uint8ClampedArray";
    case napi_int16_array: return "Int16Array";
    case napi_uint16_array: return "Uint16Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    case napi_bigint64_array: return "BigInt64Array";
    case napi_biguint64_array: return "BigUint64Array";
    default: return "a typed array";
  }
}

float* Call::buffer(int arg, int off_arg, const char* name, double needed) {
  if (failed_) return nullptr;
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(env_, argv_[arg], &type, &length, &data, nullptr, nullptr) != napi_ok) {
    napi_valuetype t = napi_undefined;
    napi_typeof(env_, argv_[arg], &t);
    if (t == napi_null || t == napi_undefined) {
      fail(std::string(name) + " is required but got " + (t == napi_null ? "null" : "undefined"));
    } else {
      fail(std::string(name) + " must be a Float32Array, got " + str(arg));
    }
    return nullptr;
  }
  if (type != napi_float32_array) {
    fail(std::string(name) + " must be a Float32Array, got " + typed_array_name(type));
    return nullptr;
  }
  const double off = number(off_arg);
  if (!(std::isfinite(off) && off >= 0 && std::floor(off) == off)) {
    fail(std::string(name) + " offset must be a non-negative integer, got " + str(off_arg));
    return nullptr;
  }
  if (off + needed > double(length)) {
    fail(std::string(name) + " needs " + js_number(needed) + " floats from offset " + js_number(off) + " but has " +
         js_number(double(length)));
    return nullptr;
  }
  return static_cast<float*>(data) + i64(off);
}

float* Call::optional(int arg, int off_arg, const char* name, double needed) {
  if (failed_) return nullptr;
  napi_valuetype t;
  if (napi_typeof(env_, argv_[arg], &t) == napi_ok && t == napi_null) return nullptr;
  return buffer(arg, off_arg, name, needed);
}

void Call::no_overlap(const char* name_a, const float* a, double na, const char* name_b, const float* b, double nb) {
  if (failed_ || a == nullptr || b == nullptr || na == 0 || nb == 0) return;
  if (a < b + i64(nb) && b < a + i64(na)) fail(std::string(name_a) + " overlaps " + name_b);
}

void Call::fail(const std::string& what) {
  if (failed_) return;
  failed_ = true;
  const std::string msg = std::string(op_) + ": " + what + " (" + shape() + ")";
  napi_value text, ctor, err;
  if (engine_ && engine_->shape_error && napi_create_string_utf8(env_, msg.c_str(), msg.size(), &text) == napi_ok &&
      napi_get_reference_value(env_, engine_->shape_error, &ctor) == napi_ok &&
      napi_new_instance(env_, ctor, 1, &text, &err) == napi_ok) {
    napi_throw(env_, err);
  } else {
    napi_throw_range_error(env_, nullptr, msg.c_str());
  }
}

void Call::fail_error(const std::string& what) {
  if (failed_) return;
  failed_ = true;
  napi_throw_error(env_, nullptr, (std::string(op_) + ": " + what).c_str());
}

std::string Call::shape() const {
  std::string s;
  for (int i = 0; i < nrec_; ++i) {
    if (i > 0) s += ' ';
    s += rec_name_[i];
    s += '=';
    s += rec_flag_[i] ? (rec_value_[i] != 0 ? "1" : "0") : str(rec_arg_[i]);
  }
  return s;
}

std::string Call::str(int arg) const {
  napi_value v = argv_[arg];
  double d;
  if (napi_get_value_double(env_, v, &d) == napi_ok) return js_number(d);
  napi_value s;
  char buf[256];
  size_t len = 0;
  if (napi_coerce_to_string(env_, v, &s) != napi_ok ||
      napi_get_value_string_utf8(env_, s, buf, sizeof(buf), &len) != napi_ok) {
    // e.g. a Symbol, which String() would print but coercion rejects; drop the pending exception.
    napi_value ignored;
    bool pending = false;
    napi_is_exception_pending(env_, &pending);
    if (pending) napi_get_and_clear_last_exception(env_, &ignored);
    return "?";
  }
  return std::string(buf, len);
}

/** ECMAScript Number::toString(10): shortest round-trip digits, laid out as JS does. */
std::string Call::js_number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (v == 0) return "0";
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  const std::string sci(buf, res.ptr);  // e.g. "-1.2345e-07"
  const size_t epos = sci.find('e');
  std::string mant = sci.substr(0, epos);
  const int e = std::atoi(sci.c_str() + epos + 1);
  std::string sign;
  if (mant[0] == '-') {
    sign = "-";
    mant.erase(0, 1);
  }
  std::string digits;
  for (char c : mant) {
    if (c != '.') digits += c;
  }
  const int k = int(digits.size());
  const int n = e + 1;  // the decimal point sits after n digits
  std::string out;
  if (k <= n && n <= 21) {
    out = digits + std::string(size_t(n - k), '0');
  } else if (0 < n && n <= 21) {
    out = digits.substr(0, size_t(n)) + "." + digits.substr(size_t(n));
  } else if (-6 < n && n <= 0) {
    out = "0." + std::string(size_t(-n), '0') + digits;
  } else {
    out = digits.substr(0, 1);
    if (k > 1) out += "." + digits.substr(1);
    out += (n - 1 >= 0 ? "e+" : "e-") + std::to_string(std::abs(n - 1));
  }
  return sign + out;
}

}  // namespace tdmpc
