#include "kurz/common/clock.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <ctime>
#include <future>
#include <mutex>
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

// Both readings of std::time bracket the clock's reading (std::time may use a coarser source, so
// the later end is allowed one second).
TEST(SystemClockTest, AgreesWithStdTime) {
  SystemClock clock;
  const std::time_t before = std::time(nullptr);
  const std::time_t now = std::chrono::system_clock::to_time_t(clock.now());
  const std::time_t after = std::time(nullptr);
  EXPECT_GE(now, before);
  EXPECT_LE(now, after + 1);
}

TEST(SystemClockTest, WaitForReturnsAtOnceWhenReadyAndOtherwiseAfterTheTimeout) {
  SystemClock clock;
  std::mutex mutex;
  std::condition_variable cv;
  std::unique_lock lock(mutex);
  EXPECT_TRUE(clock.wait_for(lock, cv, 1h, [] { return true; }));
  const auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(clock.wait_for(lock, cv, 20ms, [] { return false; }));
  EXPECT_GE(std::chrono::steady_clock::now() - started, 20ms);  // never early
  EXPECT_TRUE(lock.owns_lock());
}

// A waiter on the manual clock: waits `timeout` on `clock` for `ready`, on its own thread.
struct ManualWaiter {
  ManualWaiter(const ManualClock& clock, std::chrono::milliseconds timeout)
      : result(std::async(std::launch::async, [this, &clock, timeout] {
          std::unique_lock lock(mutex);
          return clock.wait_for(lock, cv, timeout, [this] { return ready; });
        })) {}
  void make_ready() {
    std::lock_guard lock(mutex);
    ready = true;
    cv.notify_all();
  }
  std::mutex mutex;
  std::condition_variable cv;
  bool ready = false;
  std::future<bool> result;
};

void until_waiting(const ManualClock& clock, std::size_t count) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (clock.waiting() < count && std::chrono::steady_clock::now() < deadline)
    std::this_thread::yield();
  ASSERT_EQ(clock.waiting(), count);
}

TEST(ManualClockTest, AWaitEndsExactlyWhenTheClockReachesItsDeadline) {
  ManualClock clock;
  ManualWaiter waiter(clock, 50ms);
  until_waiting(clock, 1);
  EXPECT_EQ(clock.advance(49ms), 0u);  // seen by the waiter, which waits on
  EXPECT_EQ(clock.waiting(), 1u);
  EXPECT_EQ(waiter.result.wait_for(0s), std::future_status::timeout);
  EXPECT_EQ(clock.advance(1ms), 1u);
  EXPECT_EQ(clock.waiting(), 0u);
  ASSERT_EQ(waiter.result.wait_for(10s), std::future_status::ready);
  EXPECT_FALSE(waiter.result.get());
}

TEST(ManualClockTest, AWaitEndsWhenReadyWithoutTheClockMoving) {
  ManualClock clock;
  ManualWaiter waiter(clock, 1h);
  until_waiting(clock, 1);
  waiter.make_ready();
  ASSERT_EQ(waiter.result.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(waiter.result.get());
  EXPECT_EQ(clock.now(), TimePoint{});
  EXPECT_EQ(clock.advance(1h), 0u);  // nobody waits any more
}

TEST(ManualClockTest, SetEndsEveryWaitItPasses) {
  ManualClock clock;
  ManualWaiter short_wait(clock, 10ms);
  ManualWaiter long_wait(clock, 1h);
  until_waiting(clock, 2);
  EXPECT_EQ(clock.set(TimePoint{} + 10ms), 1u);
  ASSERT_EQ(short_wait.result.wait_for(10s), std::future_status::ready);
  EXPECT_FALSE(short_wait.result.get());
  EXPECT_EQ(clock.waiting(), 1u);
  EXPECT_EQ(clock.set(TimePoint{} + 2h), 1u);
  ASSERT_EQ(long_wait.result.wait_for(10s), std::future_status::ready);
  EXPECT_FALSE(long_wait.result.get());
}

}  // namespace
}  // namespace kurz::common
