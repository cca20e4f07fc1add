#pragma once

#include <memory>

#include "../backend.h"

namespace neonn {

/// Plain C++ loops: always available, the correctness oracle for every other backend.
std::unique_ptr<Backend> make_reference_backend();

}  // namespace neonn
