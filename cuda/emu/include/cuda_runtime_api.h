/* cuda_runtime_api.h (emulation) - stands in for the CUDA runtime header when
 * the backend's .cu files are compiled as host C++ for the tests. */
#include "../cuda_emu.h"
