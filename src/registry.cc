#include "registry.h"

#include <unistd.h>

#include "openblas/openblas_backend.h"
#include "reference/reference_backend.h"

namespace neonn {

Registry& Registry::instance() {
  // Function-local static: initialized once, thread-safe, on first use.
  static Registry registry;
  return registry;
}

Registry::Registry() {
  // Registration order is the order nn.backends() lists, best first.
  add(make_openblas_backend());
  add(make_openblas_dl_backend());
  add(make_reference_backend());
  // Default: the first available backend (reference always is).
  for (const auto& b : backends_) {
    if (b->status().ok) {
      active_.store(b.get());
      break;
    }
  }
  set_threads(online_cores());
}

void Registry::add(std::unique_ptr<Backend> backend) { backends_.push_back(std::move(backend)); }

int Registry::online_cores() {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

const Backend* Registry::find(const std::string& name) const {
  for (const auto& b : backends_) {
    if (b->name() == name) return b.get();
  }
  return nullptr;
}

std::string Registry::available_names() const {
  std::string out;
  for (const auto& b : backends_) {
    if (!b->status().ok) continue;
    if (!out.empty()) out += ", ";
    out += b->name();
  }
  return out;
}

void Registry::set_active(const std::string& name) {
  const Backend* b = find(name);
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
  for (size_t hops = 0; hops <= backends_.size(); ++hops) {
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

void Registry::set_threads(int n) {
  if (n < 1) n = 1;
  threads_.store(n, std::memory_order_relaxed);
  for (const auto& b : backends_) {
    if (b->status().ok) b->set_threads(n);
  }
}

}  // namespace neonn
