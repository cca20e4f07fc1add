#include "conv.h"

#include <cstddef>

namespace neonn {
namespace {

float activate(double v, Activation a) {
  if (a == Activation::kRelu && v < 0.0) return 0.0f;
  return static_cast<float>(v);
}

}  // namespace

void reference_conv2d(const Conv2dCall& c) {
  const int64_t cig = c.c_in_per_group();
  const int64_t cog = c.c_out_per_group();
  for (int64_t n = 0; n < c.n; ++n) {
    for (int64_t co = 0; co < c.c_out; ++co) {
      const int64_t g = co / cog;
      const float* wk = c.w.data + co * cig * c.k_h * c.k_w;
      float* y = c.y.data + (n * c.c_out + co) * c.out_h * c.out_w;
      for (int64_t oh = 0; oh < c.out_h; ++oh) {
        for (int64_t ow = 0; ow < c.out_w; ++ow) {
          double acc = c.bias.data != nullptr ? c.bias.data[co] : 0.0;
          for (int64_t ci = 0; ci < cig; ++ci) {
            const float* x = c.x.data + (n * c.c_in + g * cig + ci) * c.in_h * c.in_w;
            for (int64_t kh = 0; kh < c.k_h; ++kh) {
              const int64_t ih = oh * c.stride_h - c.pad_top + kh * c.dilation_h;
              if (ih < 0 || ih >= c.in_h) continue;
              for (int64_t kw = 0; kw < c.k_w; ++kw) {
                const int64_t iw = ow * c.stride_w - c.pad_left + kw * c.dilation_w;
                if (iw < 0 || iw >= c.in_w) continue;
                acc += static_cast<double>(x[ih * c.in_w + iw]) * wk[(ci * c.k_h + kh) * c.k_w + kw];
              }
            }
          }
          y[oh * c.out_w + ow] = activate(acc, c.activation);
        }
      }
    }
  }
}

void reference_fully_connected(const FullyConnectedCall& c) {
  for (int64_t n = 0; n < c.n; ++n) {
    const float* x = c.x.data + n * c.in_features;
    for (int64_t o = 0; o < c.out_features; ++o) {
      const float* w = c.w.data + o * c.in_features;
      double acc = c.bias.data != nullptr ? c.bias.data[o] : 0.0;
      for (int64_t i = 0; i < c.in_features; ++i) acc += static_cast<double>(x[i]) * w[i];
      c.y.data[n * c.out_features + o] = static_cast<float>(acc);
    }
  }
}

}  // namespace neonn
