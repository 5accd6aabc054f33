// run_parallel: n tasks on up to `jobs` threads. The first failure stops the
// hand-out of new tasks and is returned; tasks already running finish.
#pragma once

#include <cstddef>
#include <functional>

#include "base/result.hpp"

namespace kiln::registry {

Status run_parallel(int jobs, size_t n, const std::function<Status(size_t)>& task);

}  // namespace kiln::registry
