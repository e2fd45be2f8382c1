/* cudnn_internal.h - what cudnn_conv.cu (plans, cuDNN calls) takes from
 * cudnn_tune.cu (the engine-timing cache file and the plan log; plain host
 * code). C++ only, internal to cuda/. */
#ifndef XFIQ_CUDA_CUDNN_INTERNAL_H
#define XFIQ_CUDA_CUDNN_INTERNAL_H

#include <map>
#include <string>

extern "C" {
#include "xfiq.h"
}

struct xfiq_tune_entry {
    std::string engine;
    double ms = 0.0;
};
typedef std::map<std::string, xfiq_tune_entry> xfiq_tune_map;

/* Reads a timing cache file into m (empty when the file does not exist).
 * A file that does not parse, or has the wrong shape, leaves m empty and
 * prints one warning on stderr: a cache is never a reason to fail. */
void xfiq_tune_load(const std::string &path, xfiq_tune_map &m);
/* Merges m into the file (re-read first: another process may have added
 * entries) and replaces it atomically (temporary file + rename). */
xfiq_status xfiq_tune_save(const std::string &path, const xfiq_tune_map &m, const std::string &device,
                           long cudnn_version);
/* The cache file name for a device name and cuDNN version (folder created). */
xfiq_status xfiq_tune_file_for(const std::string &device, long cudnn_version, std::string *path);

/* Appends one line to the file named by $XFIQ_CUDNN_LOG (nothing when unset). */
void xfiq_cudnn_log_line(const std::string &line);

/* $XFIQ_CUDNN_TUNE=0 turns timing and the cache file off (heuristic order). */
bool xfiq_cudnn_tuning_enabled();

#endif
