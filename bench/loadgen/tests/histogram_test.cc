#include "histogram.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace kurz::load {
namespace {

TEST(HistogramTest, PercentilesWithinOnePercentOfTheExactValues) {
  Histogram h;
  std::vector<double> values;
  std::mt19937_64 random(7);
  std::lognormal_distribution<double> dist(6.0, 1.5);  // ~400 us, a long tail
  for (int i = 0; i < 100000; ++i) {
    values.push_back(dist(random));
    h.record(values.back());
  }
  std::sort(values.begin(), values.end());
  for (const double p : {50.0, 90.0, 99.0, 99.9}) {
    const double exact = values[static_cast<size_t>(std::ceil(p / 100 * values.size())) - 1];
    EXPECT_NEAR(h.percentile_us(p), exact, 0.01 * exact) << "p" << p;
  }
  EXPECT_DOUBLE_EQ(h.max_us(), values.back());
  EXPECT_EQ(h.count(), values.size());
}

TEST(HistogramTest, EmptyAndTinyValues) {
  Histogram h;
  EXPECT_EQ(h.percentile_us(99), 0);
  h.record(0);
  h.record(0.5);
  EXPECT_EQ(h.count(), 2u);
  EXPECT_LE(h.percentile_us(100), 0.5);
}

TEST(HistogramTest, HugeValuesLandInTheTopBucket) {
  Histogram h;
  h.record(1e12);
  EXPECT_EQ(Histogram::bucket_of(1e12), Histogram::kBuckets - 1);
  EXPECT_DOUBLE_EQ(h.max_us(), 1e12);
}

TEST(HistogramTest, MergeAndDifference) {
  Histogram a, b;
  for (int i = 1; i <= 100; ++i) a.record(i * 1000.0);
  b = a;
  for (int i = 0; i < 100; ++i) b.record(1e6);
  const Histogram only_new = Histogram::difference(b, a);
  EXPECT_EQ(only_new.count(), 100u);
  EXPECT_NEAR(only_new.percentile_us(50), 1e6, 1e4);
  Histogram both;
  both.merge(a);
  both.merge(only_new);
  EXPECT_EQ(both.count(), 200u);
  EXPECT_NEAR(both.percentile_us(25), 50000, 500);
}

TEST(HistogramTest, BucketsFromElsewhereMatchRecording) {
  Histogram recorded, added;
  for (const double v : {3.0, 250.0, 7000.0, 1.5e6}) {
    recorded.record(v);
    added.add(Histogram::bucket_of(v), 1);
  }
  added.note_max(1.5e6);
  for (const double p : {10.0, 50.0, 90.0, 100.0})
    EXPECT_DOUBLE_EQ(recorded.percentile_us(p), added.percentile_us(p));
}

}  // namespace
}  // namespace kurz::load
