// Reference conv2d and fullyConnected: direct loops with double accumulation,
// the oracle the BLAS paths are tested against.
#pragma once

#include "../ops/conv.h"

namespace neonn {

void reference_conv2d(const Conv2dCall& c);
void reference_fully_connected(const FullyConnectedCall& c);

}  // namespace neonn
