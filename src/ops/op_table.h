// Every op by name, as a decoder plus a run function over an ArgList: the one
// place the model runner finds how to execute a step. The binding calls the
// same decode/run pairs for nn.xxx and nn.async.xxx.
#pragma once

#include <string>

#include "../args.h"
#include "../backend.h"

namespace neonn {

struct OpKernel {
  const char* name;  ///< the binding's name, e.g. "conv2d"
  Op family;         ///< what the registry resolves
  /// Decodes (and so re-checks) the arguments, then runs on `backend`, which
  /// the caller resolved for `family`.
  void (*exec)(const Backend& backend, const ArgList& args);
};

/// nullptr when no op has that name.
const OpKernel* find_op(const std::string& name);

}  // namespace neonn
