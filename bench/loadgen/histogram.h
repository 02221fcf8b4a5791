#pragma once
// A log-bucketed latency histogram (HDR-like): bucket i holds values in [1.01^i, 1.01^(i+1))
// microseconds, so every reported percentile is within 0.5 % of the true value (the bucket's
// geometric middle), from 1 us to about 11 minutes. The exact maximum is kept apart. The same
// bucketing is used by bench/wrk/mix.lua, which writes bucket counts that merge in here.
#include <array>
#include <cstdint>

namespace kurz::load {

class Histogram {
 public:
  static constexpr int kBuckets = 2048;
  static constexpr double kBase = 1.01;

  static int bucket_of(double us);
  static double value_of(int bucket);  // the bucket's geometric middle, in microseconds

  void record(double us);
  void add(int bucket, uint64_t count);  // counts from elsewhere (wrk's Lua); max as given
  void note_max(double us);
  void merge(const Histogram& other);
  void clear();
  // What `later` recorded since it looked like `earlier` (both cumulative; max is later's).
  static Histogram difference(const Histogram& later, const Histogram& earlier);

  uint64_t count() const { return count_; }
  double max_us() const { return max_us_; }
  double mean_us() const;
  // The smallest recorded value at or above which fall (100 - p) % of the values; 0 when empty.
  double percentile_us(double p) const;

 private:
  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
  double sum_us_ = 0;
  double max_us_ = 0;
};

}  // namespace kurz::load
