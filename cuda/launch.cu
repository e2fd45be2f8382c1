/* launch.cu - the launch limits of launch.h (defaults, and the test hook). */
#include <atomic>

#include "launch.h"

namespace {
const int64_t kDefaultMaxBlocks = 65536;
std::atomic<int64_t> g_max_blocks{0}, g_i32_limit{0};
} // namespace

extern "C" void xfiq_cuda_set_launch_limits(int64_t max_blocks, int64_t i32_limit)
{
    g_max_blocks = max_blocks;
    g_i32_limit = i32_limit;
}

namespace xfiq_cuda {

int64_t max_blocks()
{
    int64_t v = g_max_blocks.load();
    return v > 0 ? v : kDefaultMaxBlocks;
}

int64_t i32_limit()
{
    int64_t v = g_i32_limit.load();
    return v > 0 ? v : (int64_t)INT32_MAX - max_blocks() * kThreads;
}

} // namespace xfiq_cuda
