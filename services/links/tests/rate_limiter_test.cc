#include "kurz/links/rate_limiter.h"

#include <gtest/gtest.h>

namespace kurz::links {
namespace {

using namespace std::chrono_literals;

TEST(MemoryRateLimiterTest, AllowsUpToTheLimitPerWindowPerClient) {
  common::ManualClock clock{common::TimePoint(std::chrono::hours(500000))};
  MemoryRateLimiter limiter({3, 60s}, clock);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.hit("10.0.0.1").value().allowed);
  const auto refused = limiter.hit("10.0.0.1").value();
  EXPECT_FALSE(refused.allowed);
  EXPECT_GT(refused.retry_after, 0ms);
  EXPECT_LE(refused.retry_after, 60s);
  EXPECT_TRUE(limiter.hit("10.0.0.2").value().allowed);
  clock.advance(refused.retry_after);
  EXPECT_TRUE(limiter.hit("10.0.0.1").value().allowed);
}

TEST(MemoryRateLimiterTest, ZeroMeansUnlimited) {
  common::SystemClock clock;
  MemoryRateLimiter limiter({0, 60s}, clock);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(limiter.hit("x").value().allowed);
}

}  // namespace
}  // namespace kurz::links
