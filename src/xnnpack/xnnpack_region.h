// NHWC regions on XNNPACK (model/region.h): the plan the xnnpack backend makes
// for a run of a program's steps, in fp32 or, where XNNPACK runs it on this
// CPU, fp16.
#pragma once

#include <cstddef>
#include <memory>

#include "../backend.h"
#include "../model/region.h"
#include "xnnpack_api.h"

namespace neonn {
namespace xnn {

/// What a region plan needs of the xnnpack backend.
class RegionHost {
 public:
  virtual ~RegionHost() = default;
  virtual const Api& api() const = 0;
  /// images x [rows][cols] -> images x [cols][rows] on `pool` (a PoolLease's, or null); false when a value read is
  /// NaN or infinite.
  virtual bool transpose(const float* src, float* dst, size_t images, size_t rows, size_t cols, bool relu,
                         ThreadpoolHandle pool) const = 0;
  /// The backend whose counters the region's ops move.
  virtual const Backend& counted() const = 0;
  /// Whether XNNPACK runs fp16 operators on this CPU (see fp16_supported).
  virtual bool fp16() const = 0;
};

/// Plans `graph` (in fp16 when graph.fp16 and the host runs fp16; else in
/// fp32, and describe() says why). Throws a RangeError naming the
/// node when XNNPACK refuses one (the caller then runs the steps one by one).
std::unique_ptr<RegionPlan> make_region_plan(const RegionHost& host, const RegionGraph& graph);

/// Plans a quantized graph (graph.quantized): its convs on XNNPACK's qs8 operators, int8 NHWC buffers.
/// Throws a RangeError when XNNPACK refuses a node.
std::unique_ptr<RegionPlan> make_quantized_region_plan(const RegionHost& host, const RegionGraph& graph);

/// Whether XNNPACK runs fp16 operators on this CPU (a probe: one tiny fp16 conv is made).
bool fp16_supported(const Api& api);

}  // namespace xnn
}  // namespace neonn
