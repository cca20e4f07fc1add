// The part of NNPACK's public C API that neonn calls, declared here so that
// NNPACK is not a build dependency: the library is dlopen'd at run time
// (NEONN_NNPACK_LIBRARY, else the system path) and every entry point is
// looked up by name. Types, enum values and signatures are those of NNPACK's
// include/nnpack.h (and pthreadpool's create/destroy); they must stay
// ABI-exact, so nothing here is "improved".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace neonn {
namespace nnp {

/// NNPACK's enum nnp_status. NNPACK reuses some values (13, 14 and 15 each
/// mean two things), so these are plain ints rather than an enum.
using Status = int;
constexpr Status kSuccess = 0;
constexpr Status kUnsupportedAlgorithm = 26;
constexpr Status kUnsupportedTransformStrategy = 27;
constexpr Status kUninitialized = 50;
constexpr Status kUnsupportedHardware = 51;
constexpr Status kOutOfMemory = 52;

/// enum nnp_activation
enum Activation : int { kActivationIdentity = 0, kActivationRelu = 1 };

/// enum nnp_convolution_algorithm
enum ConvolutionAlgorithm : int {
  kAlgorithmAuto = 0,
  kAlgorithmFt8x8 = 1,
  kAlgorithmFt16x16 = 2,
  kAlgorithmWt8x8 = 3,
  kAlgorithmImplicitGemm = 4,
  kAlgorithmDirect = 5,
};

/// enum nnp_convolution_transform_strategy
enum TransformStrategy : int {
  kTransformCompute = 1,
  kTransformPrecompute = 2,
  kTransformReuse = 3,
};

/// struct nnp_size (passed by value)
struct Size {
  size_t width;
  size_t height;
};

/// struct nnp_padding
struct Padding {
  size_t top;
  size_t right;
  size_t bottom;
  size_t left;
};

using Threadpool = void*;  ///< pthreadpool_t

using InitializeFn = Status (*)();
using ConvolutionInferenceFn = Status (*)(ConvolutionAlgorithm algorithm, TransformStrategy strategy,
                                          size_t input_channels, size_t output_channels, Size input_size,
                                          Padding input_padding, Size kernel_size, Size output_subsampling,
                                          const float* input, const float* kernel, const float* bias,
                                          float* output, void* workspace_buffer, size_t* workspace_size,
                                          Activation activation, const void* activation_parameters,
                                          Threadpool threadpool, void* profile);
using FullyConnectedInferenceFn = Status (*)(size_t input_channels, size_t output_channels, const float* input,
                                             const float* kernel, float* output, Threadpool threadpool);
using MaxPoolingOutputFn = Status (*)(size_t batch_size, size_t channels, Size input_size, Padding input_padding,
                                      Size pooling_size, Size pooling_stride, const float* input, float* output,
                                      Threadpool threadpool);
using SoftmaxOutputFn = Status (*)(size_t batch_size, size_t channels, const float* input, float* output,
                                   Threadpool threadpool);
using ReluOutputFn = Status (*)(size_t batch_size, size_t channels, const float* input, float* output,
                                float negative_slope, Threadpool threadpool);
using ThreadpoolCreateFn = Threadpool (*)(size_t threads_count);
using ThreadpoolDestroyFn = void (*)(Threadpool threadpool);


/// The entry points, resolved from one library handle.
struct Api {
  InitializeFn initialize = nullptr;
  ConvolutionInferenceFn convolution_inference = nullptr;
  FullyConnectedInferenceFn fully_connected_inference = nullptr;
  MaxPoolingOutputFn max_pooling_output = nullptr;
  SoftmaxOutputFn softmax_output = nullptr;
  ReluOutputFn relu_output = nullptr;
  ThreadpoolCreateFn threadpool_create = nullptr;
  ThreadpoolDestroyFn threadpool_destroy = nullptr;
};

/// What a status means, for error messages ("unsupported algorithm").
std::string status_text(Status s);

}  // namespace nnp
}  // namespace neonn
