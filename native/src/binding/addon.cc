// Module entry. Node-API modules are context-aware: this runs once per JS environment (the main
// thread and every worker_thread that loads the addon), and everything it creates lives in that
// environment's instance data; the only process-wide state is the read-only CPU feature probe.
#include <napi.h>

#include "binding/methods.h"
#include "cpu.h"

namespace tdmpc {

class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports) {
    engine_class_ = Napi::Persistent(Napi::Function(env, define_engine_class(env)));
    DefineAddon(exports, {
        InstanceValue("NativeEngine", engine_class_.Value(), napi_enumerable),
        InstanceValue("bestSimd", Napi::String::New(env, simd_name(best_simd())), napi_enumerable),
        InstanceValue("abiVersion", Napi::Number::New(env, 1), napi_enumerable),
    });
  }

 private:
  Napi::FunctionReference engine_class_;  // keeps the class alive for this environment
};

}  // namespace tdmpc

using TdmpcAddon = tdmpc::Addon;
NODE_API_ADDON(TdmpcAddon)
