// Headers every isa_*.cc includes BEFORE its `#pragma GCC target`: standard library code must be
// compiled for the baseline instruction set (an inline function emitted with AVX-512 and merged by
// the linker into the scalar path would crash CPUs without it).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "context.h"
#include "kernels.h"
#include "threadpool.h"
