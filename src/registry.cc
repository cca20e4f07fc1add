#include "registry.h"

#include "auto/auto_backend.h"
#include "nnpack/nnpack_backend.h"
#include "openblas/openblas_backend.h"
#include "parallel.h"
#include "reference/reference_backend.h"
#include "xnnpack/xnnpack_backend.h"

namespace neonn {

Registry& Registry::instance() {
  // Function-local static: initialized once, thread-safe, on first use.
  static Registry registry;
  return registry;
}

Registry::Registry() {
  // Registration order is the order nn.backends() lists, best first.
  // auto measures the others per conv layer and is the default.
  add(make_auto_backend());
  add(make_openblas_backend());
  add(make_openblas_dl_backend());
  add(make_nnpack_backend());
  add(make_xnnpack_backend());  // built-in XNNPACK; unavailable (with why) without it
  add(make_reference_backend());
  // Default: the first available backend (reference always is).
  for (const Backend* b : all()) {
    if (b->status().ok) {
      active_.store(b);
      break;
    }
  }
  set_threads(online_cores());
}

void Registry::add(std::unique_ptr<Backend> backend) {
  const size_t n = count_.load(std::memory_order_relaxed);
  if (n == kMaxBackends) {
    throw_range_error("setBackend: at most " + std::to_string(kMaxBackends) + " backends can be loaded");
  }
  backends_[n] = std::move(backend);
  count_.store(n + 1, std::memory_order_release);
}

std::vector<const Backend*> Registry::all() const {
  const size_t n = count_.load(std::memory_order_acquire);
  std::vector<const Backend*> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(backends_[i].get());
  return out;
}

const Backend& Registry::load_blas(const std::string& name) {
  std::lock_guard<std::mutex> lock(add_mutex_);
  if (const Backend* b = find(name)) return *b;
  const std::string path = name.substr(name.find(':') + 1);
  NEONN_THROW_RANGEERROR_IF(path.empty(), "setBackend: \"blas:\" needs a library path, e.g. blas:/usr/lib/libblis.so");
  std::string error;
  std::unique_ptr<Backend> b = make_dl_blas_backend(name, path, &error);
  if (!b) {
    throw Error(ErrorKind::kUnavailable, "ERR_NEONN_BACKEND_UNAVAILABLE",
                "setBackend: backend \"" + name + "\" is unavailable (" + error + ")");
  }
  b->set_threads(threads());
  const Backend& ref = *b;
  add(std::move(b));
  return ref;
}

int Registry::online_cores() { return neonn::online_cores(); }

const Backend* Registry::find(const std::string& name) const {
  for (const Backend* b : all()) {
    if (b->name() == name) return b;
  }
  return nullptr;
}

std::string Registry::available_names() const {
  std::string out;
  for (const Backend* b : all()) {
    if (!b->status().ok) continue;
    if (!out.empty()) out += ", ";
    out += b->name();
  }
  return out;
}

void Registry::set_active(const std::string& name) {
  const Backend* b = find(name);
  if (b == nullptr && name.rfind("blas:", 0) == 0) b = &load_blas(name);
  if (b == nullptr) {
    throw_range_error("setBackend: unknown backend \"" + name +
                      "\"; available: " + available_names());
  }
  if (!b->status().ok) {
    throw Error(ErrorKind::kUnavailable, "ERR_NEONN_BACKEND_UNAVAILABLE",
                "setBackend: backend \"" + name + "\" is unavailable (" + b->status().reason +
                    "); available: " + available_names());
  }
  active_.store(b, std::memory_order_release);
}

const Backend& Registry::resolve(const Backend& from, Op op) const {
  const Backend* b = &from;
  // The chain is short and acyclic by construction; the bound guards a
  // misconfigured fallback name from looping forever.
  for (size_t hops = 0; hops <= kMaxBackends; ++hops) {
    if (b->status().ok && b->provides(op)) return *b;
    const Backend* next = b->fallback().empty() ? nullptr : find(b->fallback());
    if (next == nullptr) break;
    b = next;
  }
  const Backend* ref = find("reference");
  if (ref != nullptr && ref->provides(op)) return *ref;
  throw Error(ErrorKind::kInternal, "ERR_NEONN_INTERNAL",
              std::string(op_name(op)) + ": no backend provides this op");
}

int Registry::set_threads(int n) {
  // Clamped here as in JS (which warns): defence in depth for native callers.
  n = clamp_threads(n);
  threads_.store(n, std::memory_order_relaxed);
  set_parallel_threads(n);  // neonn's own loops share the budget
  const size_t count = count_.load(std::memory_order_acquire);
  for (size_t i = 0; i < count; ++i) {
    if (backends_[i]->status().ok) backends_[i]->set_threads(n);
  }
  return n;
}

}  // namespace neonn
