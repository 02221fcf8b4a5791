#include "histogram.h"

#include <algorithm>
#include <cmath>

namespace kurz::load {

namespace {
const double kLogBase = std::log(Histogram::kBase);
}

int Histogram::bucket_of(double us) {
  if (!(us >= 1.0)) return 0;  // also NaN
  const double index = std::floor(std::log(us) / kLogBase);
  return index >= kBuckets - 1 ? kBuckets - 1 : static_cast<int>(index);
}

double Histogram::value_of(int bucket) { return std::pow(kBase, bucket + 0.5); }

void Histogram::record(double us) {
  if (us < 0) us = 0;
  ++buckets_[static_cast<size_t>(bucket_of(us))];
  ++count_;
  sum_us_ += us;
  max_us_ = std::max(max_us_, us);
}

void Histogram::add(int bucket, uint64_t count) {
  if (count == 0) return;
  bucket = std::clamp(bucket, 0, kBuckets - 1);
  buckets_[static_cast<size_t>(bucket)] += count;
  count_ += count;
  sum_us_ += value_of(bucket) * static_cast<double>(count);
}

void Histogram::note_max(double us) { max_us_ = std::max(max_us_, us); }

void Histogram::merge(const Histogram& other) {
  for (size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_us_ += other.sum_us_;
  max_us_ = std::max(max_us_, other.max_us_);
}

void Histogram::clear() { *this = Histogram(); }

Histogram Histogram::difference(const Histogram& later, const Histogram& earlier) {
  Histogram out;
  for (size_t i = 0; i < out.buckets_.size(); ++i) {
    const uint64_t a = later.buckets_[i];
    const uint64_t b = earlier.buckets_[i];
    out.add(static_cast<int>(i), a > b ? a - b : 0);
  }
  out.max_us_ = later.max_us_;
  return out;
}

double Histogram::mean_us() const {
  return count_ == 0 ? 0 : sum_us_ / static_cast<double>(count_);
}

double Histogram::percentile_us(double p) const {
  if (count_ == 0) return 0;
  const double wanted = std::ceil(std::clamp(p, 0.0, 100.0) / 100.0 * static_cast<double>(count_));
  const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(wanted));
  uint64_t seen = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      const double middle = value_of(static_cast<int>(i));
      // The top bucket's middle can lie above the exact maximum: never report more than it.
      return max_us_ > 0 ? std::min(middle, max_us_) : middle;
    }
  }
  return max_us_;
}

}  // namespace kurz::load
