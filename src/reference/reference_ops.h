// The reference backend's plain-loop kernels for the non-GEMM op families,
// the oracle other backends are checked against. Calls arrive checked.
#pragma once

#include "../ops/elementwise.h"
#include "../ops/layout.h"
#include "../ops/normalization.h"

namespace neonn {
namespace reference {

void unary(const UnaryCall& call);             // elementwise.cc
void prelu(const PreluCall& call);             // elementwise.cc
void softmax(const SoftmaxCall& call);         // elementwise.cc
void binary(const BinaryCall& call);           // elementwise.cc
void batch_norm(const BatchNormCall& call);    // normalization.cc
void lrn(const LrnCall& call);                 // normalization.cc
void concat(const ConcatCall& call);           // layout.cc
void transpose(const TransposeCall& call);     // layout.cc
void pad(const PadCall& call);                 // layout.cc

}  // namespace reference
}  // namespace neonn
