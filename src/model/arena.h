// A program's activation arena: zeroed floats whose pages become resident
// only when first written. A big arena maps anonymous memory (the kernel
// hands out zero pages on first touch), so the NCHW slots of values an NHWC
// region keeps in its own buffers, planned but never written, cost no
// resident memory; a small one is an ordinary vector.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <new>
#include <vector>

namespace neonn {

class Arena {
 public:
  Arena() = default;
  explicit Arena(size_t floats) : n_(floats) {
    if (floats >= kMapFloats) {
      void* p = mmap(nullptr, floats * sizeof(float), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) throw std::bad_alloc();
      mapped_ = static_cast<float*>(p);
    } else {
      small_.assign(floats, 0.0f);
    }
  }
  ~Arena() {
    if (mapped_ != nullptr) munmap(mapped_, n_ * sizeof(float));
  }
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  Arena(Arena&& o) noexcept : n_(o.n_), mapped_(o.mapped_), small_(std::move(o.small_)) {
    o.n_ = 0;
    o.mapped_ = nullptr;
  }
  Arena& operator=(Arena&& o) noexcept {
    if (this != &o) {
      if (mapped_ != nullptr) munmap(mapped_, n_ * sizeof(float));
      n_ = o.n_;
      mapped_ = o.mapped_;
      small_ = std::move(o.small_);
      o.n_ = 0;
      o.mapped_ = nullptr;
    }
    return *this;
  }

  float* data() { return mapped_ != nullptr ? mapped_ : small_.data(); }
  const float* data() const { return mapped_ != nullptr ? mapped_ : small_.data(); }
  size_t size() const { return n_; }
  float* begin() { return data(); }

 private:
  static constexpr size_t kMapFloats = 256 * 1024;  ///< 1 MB: below it, a page or two of slack is not worth a mapping
  size_t n_ = 0;
  float* mapped_ = nullptr;
  std::vector<float> small_;
};

}  // namespace neonn
