/* cudnn_tune.cu - the host-side files of the cuDNN planner: the engine-timing
 * cache (which engine won the timing for a layer on a device, kept across
 * runs as JSON under the user's cache folder) and the plan log
 * ($XFIQ_CUDNN_LOG). No cuDNN or CUDA calls here; cudnn_conv.cu uses these
 * through cudnn_internal.h, tests through cudnn_plan.h.
 *
 * File format (one per device name and cuDNN version, so a heuristic or
 * engine change in another version never reads stale choices):
 *   {"format": "xfiq-cudnn-tune", "version": 1, "device": "...", "cudnn": 91900,
 *    "entries": {"<layer key>": {"engine": "eng0_k2=1", "ms": 0.123}, ...}} */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <mutex>

#include <cJSON.h>

#include "cudnn_internal.h"

extern "C" {
#include "core/status.h"
#include "io/afile.h"
#include "io/readall.h"
}
#include "cudnn_plan.h"

namespace {

const size_t kMaxTuneFile = (size_t)64 << 20;
std::mutex g_log_mutex;

/* mkdir -p for the cache folder. */
bool make_dirs(const std::string &dir)
{
    std::string cur;
    size_t i = 0;
    while (i <= dir.size()) {
        size_t j = dir.find('/', i);
        if (j == std::string::npos)
            j = dir.size();
        cur = dir.substr(0, j);
        if (!cur.empty() && mkdir(cur.c_str(), 0777) != 0 && errno != EEXIST)
            return false;
        i = j + 1;
    }
    struct stat st;
    return stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

/* Parses text into m; false (m untouched) on any deviation from the format. */
bool parse_tune(const char *text, xfiq_tune_map &m, std::string *why)
{
    cJSON *root = cJSON_Parse(text);
    if (!root) {
        *why = "not JSON";
        return false;
    }
    bool ok = false;
    xfiq_tune_map tmp;
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    const cJSON *ent = cJSON_GetObjectItemCaseSensitive(root, "entries");
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, "xfiq-cudnn-tune") != 0)
        *why = "no \"format\": \"xfiq-cudnn-tune\"";
    else if (!cJSON_IsObject(ent))
        *why = "no \"entries\" object";
    else {
        ok = true;
        const cJSON *e;
        cJSON_ArrayForEach(e, ent)
        {
            const cJSON *eng = cJSON_GetObjectItemCaseSensitive(e, "engine");
            const cJSON *ms = cJSON_GetObjectItemCaseSensitive(e, "ms");
            if (!e->string || !cJSON_IsString(eng) || !eng->valuestring[0] || !cJSON_IsNumber(ms)) {
                *why = std::string("bad entry \"") + (e->string ? e->string : "") + "\"";
                ok = false;
                break;
            }
            xfiq_tune_entry t;
            t.engine = eng->valuestring;
            t.ms = ms->valuedouble;
            tmp[e->string] = t;
        }
    }
    cJSON_Delete(root);
    if (ok)
        m.swap(tmp);
    return ok;
}

} // namespace

void xfiq_tune_load(const std::string &path, xfiq_tune_map &m)
{
    m.clear();
    uint8_t *data = nullptr;
    size_t len = 0;
    struct stat st;
    if (stat(path.c_str(), &st) != 0)
        return; /* no file yet: nothing timed */
    if (xfiq_file_read_all(path.c_str(), kMaxTuneFile, &data, &len) != XFIQ_OK) {
        fprintf(stderr, "xfiq: warning: cuDNN timing cache %s ignored: %s\n", path.c_str(), xfiq_last_error());
        xfiq_error_clear();
        return;
    }
    std::string why;
    if (!parse_tune((const char *)data, m, &why))
        fprintf(stderr, "xfiq: warning: cuDNN timing cache %s ignored (corrupt: %s); it will be rewritten\n",
                path.c_str(), why.c_str());
    free(data);
}

xfiq_status xfiq_tune_save(const std::string &path, const xfiq_tune_map &m, const std::string &device,
                           long cudnn_version)
{
    xfiq_tune_map all;
    xfiq_tune_load(path, all);
    for (const auto &kv : m)
        all[kv.first] = kv.second;
    cJSON *root = cJSON_CreateObject();
    cJSON *ent = root ? cJSON_CreateObject() : nullptr;
    if (!root || !ent) {
        cJSON_Delete(root);
        return xfiq_error(XFIQ_ERR_NOMEM, "cuDNN timing cache: out of memory");
    }
    cJSON_AddStringToObject(root, "format", "xfiq-cudnn-tune");
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON_AddStringToObject(root, "device", device.c_str());
    cJSON_AddNumberToObject(root, "cudnn", (double)cudnn_version);
    cJSON_AddItemToObject(root, "entries", ent);
    for (const auto &kv : all) {
        cJSON *e = cJSON_CreateObject();
        if (!e)
            break;
        cJSON_AddStringToObject(e, "engine", kv.second.engine.c_str());
        cJSON_AddNumberToObject(e, "ms", kv.second.ms);
        cJSON_AddItemToObject(ent, kv.first.c_str(), e);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return xfiq_error(XFIQ_ERR_NOMEM, "cuDNN timing cache: out of memory");
    size_t slash = path.rfind('/');
    if (slash != std::string::npos && slash > 0 && !make_dirs(path.substr(0, slash))) {
        free(text);
        return xfiq_error(XFIQ_ERR_IO, "cuDNN timing cache: cannot create the folder of %s: %s", path.c_str(),
                          strerror(errno));
    }
    std::string body = std::string(text) + "\n";
    free(text);
    return xfiq_afile_write_all(path.c_str(), body.data(), body.size());
}

xfiq_status xfiq_tune_file_for(const std::string &device, long cudnn_version, std::string *path)
{
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    std::string dir;
    if (xdg && xdg[0] == '/')
        dir = std::string(xdg) + "/xfiq";
    else if (home && home[0])
        dir = std::string(home) + "/.cache/xfiq";
    else
        return xfiq_error(XFIQ_ERR_IO, "cuDNN timing cache: neither XDG_CACHE_HOME nor HOME is set");
    /* The device name as a file name: letters, digits, '-', '.', others '_'. */
    std::string name;
    for (char ch : device)
        name += (isalnum((unsigned char)ch) || ch == '-' || ch == '.') ? ch : '_';
    if (name.empty())
        name = "unknown";
    *path = dir + "/cudnn-" + name + "-" + std::to_string(cudnn_version) + ".json";
    return XFIQ_OK;
}

void xfiq_cudnn_log_line(const std::string &line)
{
    const char *p = getenv("XFIQ_CUDNN_LOG");
    if (!p || !p[0])
        return;
    std::lock_guard<std::mutex> g(g_log_mutex);
    FILE *f = fopen(p, "a");
    if (!f) {
        fprintf(stderr, "xfiq: warning: cannot append to XFIQ_CUDNN_LOG=%s: %s\n", p, strerror(errno));
        return;
    }
    fprintf(f, "%s\n", line.c_str());
    fclose(f);
}

bool xfiq_cudnn_tuning_enabled()
{
    const char *p = getenv("XFIQ_CUDNN_TUNE");
    return !(p && strcmp(p, "0") == 0);
}

extern "C" int xfiq_cudnn_tune_get(const char *path, const char *key, char *engine, size_t len, double *ms)
{
    if (!path || !key)
        return 0;
    xfiq_tune_map m;
    xfiq_tune_load(path, m);
    auto it = m.find(key);
    if (it == m.end())
        return 0;
    if (engine && len)
        snprintf(engine, len, "%s", it->second.engine.c_str());
    if (ms)
        *ms = it->second.ms;
    return 1;
}

extern "C" xfiq_status xfiq_cudnn_tune_put(const char *path, const char *device, long cudnn_version,
                                           const char *key, const char *engine, double ms)
{
    if (!path || !key || !engine || !engine[0])
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_cudnn_tune_put: missing path, key or engine");
    xfiq_tune_map m;
    m[key].engine = engine;
    m[key].ms = ms;
    return xfiq_tune_save(path, m, device ? device : "", cudnn_version);
}
