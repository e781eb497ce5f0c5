// Every generic kernel, in dependency order. Included by each isa_*.cc inside an anonymous
// namespace after that path's vector primitives (vf, W, ...) and GemmIsa are defined, so each SIMD
// path gets its own internal-linkage copy and no symbol is shared between instruction sets.
#include "kernels/parallel.h"
#include "kernels/gemm_micro.h"
#include "kernels/gemm.h"
#include "kernels/gemm_small.h"
#include "kernels/elementwise.h"
#include "kernels/rowwise.h"
#include "kernels/normed_linear.h"
#include "kernels/twohot.h"
#include "kernels/kl.h"
#include "kernels/reduce.h"
#include "kernels/optimizer.h"
#include "kernels/table.h"
