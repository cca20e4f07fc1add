// How auto times a candidate: repeated runs, each checked for whether the
// cores were busy with something else while it ran, compared by the minimum.
//
// A sample is a run's wall time together with the CPU time the process and
// the calling thread used meanwhile. The calling thread always computes a
// share of the run (every library here has the caller work), so
//  - caller CPU < kMinCpuShare x wall: the caller was kept off its core (or
//    slept waiting for a worker that was) for a third of the run;
//  - process CPU < kMinCpuShare x wall: none of the process's threads ran for
//    that long, whatever the thread count.
// Either makes the sample busy. The process check is not "CPU far below
// threads x wall": a library may run a small layer on one thread of its pool
// while the others sleep, which looks the same. A worker kept off its core
// while the caller spins for it is not always seen; the in-use check
// (ChosenPlan, kSlowFactor) catches a choice that paid for that later.
#pragma once

#include <algorithm>
#include <functional>
#include <string>

namespace neonn {

constexpr double kMinCpuShare = 0.7;
/// Clean samples wanted per candidate, and the fewest that make a measurement
/// clean (saved to the cache) rather than noisy (used by this process only).
constexpr int kWantClean = 3;
constexpr int kMinClean = 2;
/// Samples taken at most per candidate (busy ones are redone up to this).
constexpr int kMaxSamples = 6;
/// A conv this long (us) is sampled less: kMinClean clean of at most kMaxLongSamples.
constexpr double kLongRunMicros = 50000.0;
constexpr int kMaxLongSamples = 4;

struct Sample {
  double wall_us = 0;
  double cpu_us = 0;         ///< process CPU time (every thread)
  double thread_cpu_us = 0;  ///< the calling thread's CPU time
  bool busy() const {
    return thread_cpu_us < kMinCpuShare * wall_us || cpu_us < kMinCpuShare * wall_us;
  }
};

/// A candidate whose first kMinClean samples are all slower than this many
/// times the best candidate so far stops there: it has lost, and sampling a
/// stalling thread pool ten times would cost more than the whole layer.
constexpr double kLoserFactor = 3.0;

struct Measurement {
  double min_us = 0;     ///< minimum over clean samples (over all when none was clean)
  double median_us = 0;  ///< median over all samples
  int clean = 0;         ///< clean samples
  int taken = 0;         ///< samples taken (clean + busy)
  bool lost = false;     ///< stopped early, kLoserFactor slower than the best so far
  /// Too few clean samples to save: a clean loser (lost with a clean sample) is not.
  bool noisy() const { return clean < kMinClean && !(lost && clean > 0); }
  /// What the candidate is compared by: its minimum, or when noisy its median.
  /// Under load, the minimum is what a path costs when it gets lucky (a pool
  /// that stalls on a busy core can still have a fast run), the median what
  /// this process will pay, stalls included; a noisy choice is not saved.
  double figure() const { return noisy() ? std::max(min_us, median_us) : min_us; }
};

/// Samples `run` until it has kWantClean clean samples (kMinClean for a long
/// conv) or kMaxSamples (kMaxLongSamples) in all; the first run also wakes
/// thread pools and faults in scratch memory and counts as a sample like any.
/// `label` ("openblas/im2col") selects the test clock's rule; `best_us` is
/// the best figure of the candidates measured before (0: none) for kLoserFactor.
Measurement measure(const std::string& label, int threads, double best_us, const std::function<void()>& run);

/// One run timed with the CPU time it got (Sample::busy: the cores were busy elsewhere meanwhile); the real
/// clocks, never the test clock.
Sample take_sample(const std::function<void()>& run);

/// Wall time of one run in use (us), through the test clock when it has a
/// "run:" rule for `label` (empty: the real clock, without a look-up).
double time_in_use(const std::string& label, const std::function<void()>& run);

/// NEONN_TEST_AUTO_CLOCK, read once: a fake clock for tests only (never
/// documented to users). Rules separated by ';':
///   <sel>=<wall>[@<share>],<wall>[@<share>],...   samples of measure()
///   run:<sel>=<wall>,<wall>,...                    runs in use (time_in_use), in turn
/// <sel> is "backend/algorithm", "backend" or "*", and for samples also
/// "backend/algorithm#n" or "backend#n": the n-th measurement (from 0) of
/// that candidate in the process, i.e. its n-th layer; the sample k of a
/// measurement takes the list's entry k modulo its length: that wall time,
/// with the calling thread's CPU time share x wall (default share 1) and the
/// process's share x wall x threads. The kernels still run; only the clock lies.
bool test_clock_active();

}  // namespace neonn
