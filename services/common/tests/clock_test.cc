#include "kurz/common/clock.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace kurz::common {
namespace {

using namespace std::chrono_literals;

TEST(ManualClockTest, StartsWhereToldAndMovesOnlyWhenTold) {
  const TimePoint start = TimePoint{} + 1000h;
  ManualClock clock(start);
  EXPECT_EQ(clock.now(), start);
  EXPECT_EQ(clock.now(), start);
  clock.advance(90s);
  EXPECT_EQ(clock.now(), start + 90s);
  clock.set(start - 1h);
  EXPECT_EQ(clock.now(), start - 1h);
}

TEST(ManualClockTest, ConcurrentAdvancesAreNotLost) {
  ManualClock clock;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) clock.advance(1ms);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(clock.now(), TimePoint{} + 4000ms);
}

TEST(SystemClockTest, IsCloseToTheRealClock) {
  SystemClock clock;
  const auto delta = clock.now() - std::chrono::system_clock::now();
  EXPECT_LT(delta < delta.zero() ? -delta : delta, 5s);
}

}  // namespace
}  // namespace kurz::common
