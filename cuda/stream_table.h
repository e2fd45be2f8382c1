/* stream_table.h - a small thread-safe map from cudaStream_t to the object a
 * library file keeps for that stream (its cuBLAS or cuDNN handle, plans).
 * It lets the launchers keep the CPU ops' argument lists (plus a stream)
 * while cuBLAS/cuDNN calls stay in their own files. C++ only, internal. */
#ifndef XFIQ_CUDA_STREAM_TABLE_H
#define XFIQ_CUDA_STREAM_TABLE_H

#include <mutex>
#include <vector>

#include <cuda_runtime_api.h>

template <typename T>
class xfiq_stream_table {
public:
    /* Adds obj for stream; false if the stream is already attached. */
    bool add(cudaStream_t s, T *obj)
    {
        std::lock_guard<std::mutex> g(m_);
        for (const entry &e : v_)
            if (e.s == s)
                return false;
        v_.push_back(entry{s, obj});
        return true;
    }
    /* Removes and returns the stream's object (nullptr if none). */
    T *remove(cudaStream_t s)
    {
        std::lock_guard<std::mutex> g(m_);
        for (size_t i = 0; i < v_.size(); i++)
            if (v_[i].s == s) {
                T *obj = v_[i].obj;
                v_.erase(v_.begin() + (long)i);
                return obj;
            }
        return nullptr;
    }
    T *find(cudaStream_t s)
    {
        std::lock_guard<std::mutex> g(m_);
        for (const entry &e : v_)
            if (e.s == s)
                return e.obj;
        return nullptr;
    }

private:
    struct entry {
        cudaStream_t s;
        T *obj;
    };
    std::mutex m_;
    std::vector<entry> v_;
};

#endif
