// Module entry. Node-API modules are context-aware: this runs once per JS environment (the main
// thread and every worker_thread that loads the addon), and everything it creates lives in that
// environment's instance data; the only process-wide state is the read-only CPU feature probe and
// the list of engines offering a guest seat (threadpool.cc), which is how one worker thread's
// engine lends its thread to another's.
#include <napi.h>

#include "binding/methods.h"
#include "cpu.h"

namespace tdmpc {

static napi_value make_help_engine(napi_env env) {
  napi_value fn;
  napi_create_function(env, "helpEngine", NAPI_AUTO_LENGTH, help_engine, nullptr, &fn);
  return fn;
}

class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports) {
    engine_class_ = Napi::Persistent(Napi::Function(env, define_engine_class(env)));
    DefineAddon(exports, {
        InstanceValue("NativeEngine", engine_class_.Value(), napi_enumerable),
        InstanceValue("bestSimd", Napi::String::New(env, simd_name(best_simd())), napi_enumerable),
        InstanceValue("abiVersion", Napi::Number::New(env, 1), napi_enumerable),
        InstanceValue("helpEngine", Napi::Function(env, make_help_engine(env)), napi_enumerable),
    });
  }

 private:
  Napi::FunctionReference engine_class_;  // keeps the class alive for this environment
};

}  // namespace tdmpc

using TdmpcAddon = tdmpc::Addon;
NODE_API_ADDON(TdmpcAddon)
