#include "kurz/redirect/click_buffer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kurz/common/clock.h"

namespace kurz::redirect {
namespace {

using namespace std::chrono_literals;
using common::ManualClock;

// How long a test waits for something that must happen. Only a failing test waits this long.
constexpr auto kBound = 10s;

// Fails the first `failures` calls (then succeeds unless `always_fail`), optionally slowly. When
// `hold` is set, a call waits inside publish() until release(). Tests wait for calls with
// wait_for_attempts() / wait_for_codes().
class FakePublisher final : public ClickPublisher {
 public:
  common::Result<void> publish(std::uint64_t sequence,
                               const std::vector<common::ClickEvent>& batch) override {
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    std::unique_lock lock(mutex);
    attempts.push_back({sequence, batch.size()});
    changed.notify_all();
    changed.wait(lock, [&] { return !hold; });
    if (failures > 0 || always_fail) {
      if (failures > 0) --failures;
      return common::Error{common::ErrorKind::Unavailable, "unavailable", "down"};
    }
    for (const auto& event : batch) codes.push_back(event.code);
    changed.notify_all();
    return {};
  }

  // True once publish() has been called `count` times (within kBound).
  bool wait_for_attempts(std::size_t count) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, kBound, [&] { return attempts.size() >= count; });
  }
  // True once `count` events have been published (within kBound).
  bool wait_for_codes(std::size_t count) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, kBound, [&] { return codes.size() >= count; });
  }
  std::size_t attempt_count() {
    std::lock_guard lock(mutex);
    return attempts.size();
  }
  void release() {
    std::lock_guard lock(mutex);
    hold = false;
    changed.notify_all();
  }

  std::mutex mutex;
  std::condition_variable changed;
  std::atomic<int> failures{0};
  std::atomic<bool> always_fail{false};
  bool hold = false;
  std::chrono::milliseconds delay{0};
  std::vector<std::pair<std::uint64_t, std::size_t>> attempts;  // sequence, size
  std::vector<std::string> codes;
};

// True once `count` threads wait on `clock` (within kBound): the flusher (or flush()) has reached
// its timed wait, so that the next move of the clock is seen by it.
bool until_waiting(const ManualClock& clock, std::size_t count) {
  const auto deadline = std::chrono::steady_clock::now() + kBound;
  while (clock.waiting() < count) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

// True once `done()` holds (within kBound): for what another thread finishes, such as the
// buffer's count of a batch the publisher has just accepted.
bool eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + kBound;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

// Runs `call` on its own thread; done() says whether it has returned yet.
class Background {
 public:
  explicit Background(const std::function<void()>& call)
      : result_(std::async(std::launch::async, call)) {}
  bool done() { return result_.wait_for(0s) == std::future_status::ready; }
  bool finishes() { return result_.wait_for(kBound) == std::future_status::ready; }

 private:
  std::future<void> result_;
};

common::ClickEvent event(int i) { return {{}, "c" + std::to_string(i), "", ""}; }

ClickBuffer::Options fast(std::size_t capacity = 100000, std::size_t batch_size = 512) {
  ClickBuffer::Options options;
  options.capacity = capacity;
  options.batch_size = batch_size;
  options.interval = 5ms;
  options.min_backoff = 5ms;
  options.max_backoff = 20ms;
  return options;
}

TEST(ClickBufferTest, PublishesEverythingInOrderInBoundedBatches) {
  FakePublisher publisher;
  ClickBuffer buffer(publisher, fast(100000, 64));
  for (int i = 0; i < 1000; ++i) buffer.record(event(i));
  ASSERT_TRUE(buffer.flush(5s));
  EXPECT_EQ(buffer.published(), 1000u);
  EXPECT_EQ(buffer.pending(), 0u);
  std::lock_guard lock(publisher.mutex);
  ASSERT_EQ(publisher.codes.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(publisher.codes[i], "c" + std::to_string(i));
  std::uint64_t previous = 0;
  for (const auto& [sequence, size] : publisher.attempts) {
    EXPECT_LE(size, 64u);
    EXPECT_EQ(sequence, previous + 1);
    previous = sequence;
  }
}

// The clock never moves: the interval cannot be what sends the batch.
TEST(ClickBufferTest, AFullBatchGoesOutWithoutWaitingForTheInterval) {
  FakePublisher publisher;
  ManualClock clock;
  ClickBuffer buffer(publisher, fast(1000, 100), clock);
  for (int i = 0; i < 100; ++i) buffer.record(event(i));
  ASSERT_TRUE(publisher.wait_for_codes(100));
  EXPECT_TRUE(eventually([&] { return buffer.published() == 100; }));
  std::lock_guard lock(publisher.mutex);
  ASSERT_EQ(publisher.attempts.size(), 1u);
  EXPECT_EQ(publisher.attempts[0].second, 100u);
}

// Nothing goes out before the interval has passed on the clock; then everything does.
TEST(ClickBufferTest, APartialBatchGoesOutWhenTheIntervalHasPassed) {
  FakePublisher publisher;
  ManualClock clock;
  ClickBuffer buffer(publisher, fast(1000, 100), clock);
  for (int i = 0; i < 99; ++i) buffer.record(event(i));
  ASSERT_TRUE(until_waiting(clock, 1));
  EXPECT_EQ(clock.advance(4ms), 0u);  // the interval is 5 ms
  EXPECT_EQ(publisher.attempt_count(), 0u);
  EXPECT_EQ(clock.advance(1ms), 1u);
  ASSERT_TRUE(publisher.wait_for_codes(99));
  EXPECT_EQ(publisher.attempt_count(), 1u);
}

// The retries come after min_backoff, doubling up to max_backoff (5, 10, 20, 20 ms), and not a
// moment earlier: each move of the clock either ends the backoff or visibly does not.
TEST(ClickBufferTest, AFailedBatchIsRetriedUnchangedWithTheSameSequence) {
  FakePublisher publisher;
  publisher.failures = 4;
  ManualClock clock;
  ClickBuffer buffer(publisher, fast(), clock);
  for (int i = 0; i < 10; ++i) buffer.record(event(i));
  ASSERT_TRUE(until_waiting(clock, 1));
  EXPECT_EQ(clock.advance(5ms), 1u);  // the interval: the first attempt
  std::size_t attempts = 1;
  for (const auto backoff : {5ms, 10ms, 20ms, 20ms}) {
    ASSERT_TRUE(publisher.wait_for_attempts(attempts));
    ASSERT_TRUE(until_waiting(clock, 1));
    EXPECT_EQ(clock.advance(backoff - 1ms), 0u) << "backoff " << backoff.count() << " ms";
    EXPECT_EQ(publisher.attempt_count(), attempts);
    EXPECT_EQ(clock.advance(1ms), 1u) << "backoff " << backoff.count() << " ms";
    ++attempts;
  }
  ASSERT_TRUE(publisher.wait_for_codes(10));
  EXPECT_TRUE(eventually([&] { return buffer.published() == 10; }));
  std::lock_guard lock(publisher.mutex);
  ASSERT_EQ(publisher.attempts.size(), 5u);
  EXPECT_EQ(publisher.attempts[0], (std::pair<std::uint64_t, std::size_t>{1, 10}));
  for (std::size_t i = 1; i < 5; ++i) EXPECT_EQ(publisher.attempts[i], publisher.attempts[0]);
  EXPECT_EQ(publisher.codes.size(), 10u);  // no duplicates
}

TEST(ClickBufferTest, OverflowIsRefusedAndCountedExactly) {
  FakePublisher publisher;
  publisher.always_fail = true;
  ClickBuffer buffer(publisher, fast(100, 16));
  for (int i = 0; i < 250; ++i) buffer.record(event(i));
  EXPECT_EQ(buffer.pending(), 100u);
  EXPECT_EQ(buffer.dropped(), 150u);
  publisher.always_fail = false;
  ASSERT_TRUE(buffer.flush(5s));
  EXPECT_EQ(buffer.published(), 100u);
  EXPECT_EQ(buffer.dropped(), 150u);
  std::lock_guard lock(publisher.mutex);
  EXPECT_EQ(publisher.codes.front(), "c0");  // the oldest are kept, the newest refused
  EXPECT_EQ(publisher.codes.back(), "c99");
}

// The publisher is held inside publish() until the recorder has finished: if record() waited for
// it, the recording could not finish at all.
TEST(ClickBufferTest, RecordNeverWaitsForASlowPublisher) {
  FakePublisher publisher;
  publisher.hold = true;
  ClickBuffer buffer(publisher, fast(100000, 1));
  buffer.record(event(0));
  ASSERT_TRUE(publisher.wait_for_attempts(1));  // the flusher is now inside publish()
  Background recorder([&] {
    for (int i = 1; i < 1000; ++i) buffer.record(event(i));
  });
  const bool recorded = recorder.finishes();
  EXPECT_EQ(publisher.attempt_count(), 1u);  // still inside the first publish()
  publisher.release();
  ASSERT_TRUE(recorded);
  EXPECT_EQ(buffer.dropped(), 0u);
  ASSERT_TRUE(buffer.flush(5s));
  EXPECT_EQ(buffer.published(), 1000u);
}

TEST(ClickBufferTest, StopFlushesWhatIsLeft) {
  FakePublisher publisher;
  ManualClock clock;  // it never moves: only stop() can make the buffer publish
  ClickBuffer buffer(publisher, fast(100000, 1000), clock);
  for (int i = 0; i < 500; ++i) buffer.record(event(i));
  Background stop([&] { buffer.stop(5s); });
  if (!stop.finishes()) clock.advance(5s);  // a failure: end stop()'s wait before asserting
  ASSERT_TRUE(stop.finishes());
  EXPECT_EQ(clock.now(), common::TimePoint{});
  EXPECT_EQ(buffer.published(), 500u);
  EXPECT_EQ(buffer.dropped(), 0u);
  buffer.record(event(500));  // after stop: refused, counted
  EXPECT_EQ(buffer.dropped(), 1u);
}

// stop(200 ms) retries every min_backoff (5 ms) and returns when, and not before, 200 ms have
// passed on the clock.
TEST(ClickBufferTest, StopIsBoundedWhenThePublisherKeepsFailing) {
  FakePublisher publisher;
  publisher.always_fail = true;
  ManualClock clock;
  ClickBuffer buffer(publisher, fast(), clock);
  for (int i = 0; i < 300; ++i) buffer.record(event(i));
  Background stop([&] { buffer.stop(200ms); });
  for (std::size_t step = 1; step < 40; ++step) {
    ASSERT_TRUE(publisher.wait_for_attempts(step));
    ASSERT_TRUE(until_waiting(clock, 2));       // stop() and the flusher's backoff
    EXPECT_EQ(clock.advance(5ms), 1u) << step;  // the backoff ends, stop()'s wait does not
  }
  ASSERT_TRUE(publisher.wait_for_attempts(40));
  ASSERT_TRUE(until_waiting(clock, 2));
  EXPECT_FALSE(stop.done());  // 195 ms
  // 200 ms: stop()'s wait ends (the flusher's backoff too, unless stop() has stopped it first).
  EXPECT_GE(clock.advance(5ms), 1u);
  ASSERT_TRUE(stop.finishes());
  EXPECT_GE(publisher.attempt_count(), 40u);
  EXPECT_EQ(buffer.published(), 0u);
  EXPECT_EQ(buffer.dropped(), 300u);  // counted, not silently lost
  EXPECT_EQ(buffer.pending(), 0u);
}

// The publisher was down long enough for the backoff to reach its maximum, and comes back just
// after stop() begins (Redis restarting with the whole stack): stop() must not sit out the long
// backoff and run out of time, it retries every min_backoff until its deadline.
TEST(ClickBufferTest, StopRetriesPromptlyWhenThePublisherComesBack) {
  FakePublisher publisher;
  publisher.always_fail = true;
  auto options = fast();
  options.min_backoff = 10ms;
  options.max_backoff = 5s;
  ManualClock clock;
  ClickBuffer buffer(publisher, options, clock);
  for (int i = 0; i < 200; ++i) buffer.record(event(i));
  ASSERT_TRUE(until_waiting(clock, 1));
  EXPECT_EQ(clock.advance(5ms), 1u);  // the interval: the first attempt
  std::size_t attempts = 1;
  for (const auto backoff : {10ms, 20ms, 40ms, 80ms, 160ms, 320ms, 640ms}) {
    ASSERT_TRUE(publisher.wait_for_attempts(attempts));
    ASSERT_TRUE(until_waiting(clock, 1));
    EXPECT_EQ(clock.advance(backoff), 1u);
    ++attempts;
  }
  ASSERT_TRUE(publisher.wait_for_attempts(attempts));  // now backing off 1280 ms
  ASSERT_TRUE(until_waiting(clock, 1));
  Background stop([&] { buffer.stop(1s); });
  ++attempts;  // stop() has the flusher retry at once
  ASSERT_TRUE(publisher.wait_for_attempts(attempts));
  ASSERT_TRUE(until_waiting(clock, 2));
  EXPECT_EQ(clock.advance(10ms), 1u);  // then every min_backoff, not after 1280 ms
  ++attempts;
  ASSERT_TRUE(publisher.wait_for_attempts(attempts));
  ASSERT_TRUE(until_waiting(clock, 2));
  publisher.always_fail = false;  // the store is back
  EXPECT_EQ(clock.advance(10ms), 1u);
  if (!stop.finishes()) clock.advance(1s);  // a failure: end stop()'s wait before asserting
  ASSERT_TRUE(stop.finishes());
  EXPECT_EQ(publisher.attempt_count(), attempts + 1);
  EXPECT_EQ(buffer.published(), 200u);
  EXPECT_EQ(buffer.dropped(), 0u);
}

// The observer hears of every cycle, an idle one (the interval passed, nothing to publish)
// included.
TEST(ClickBufferTest, ObserverSeesTheCounters) {
  FakePublisher publisher;
  std::mutex mutex;
  std::condition_variable changed;
  std::uint64_t seen_published = 0;
  int calls = 0;
  auto options = fast();
  options.observer = [&](const ClickBuffer::Counters& c) {
    std::lock_guard lock(mutex);
    seen_published = c.published;
    ++calls;
    changed.notify_all();
  };
  const auto until_calls = [&](int count) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, kBound, [&] { return calls >= count; });
  };
  ManualClock clock;
  ClickBuffer buffer(publisher, options, clock);
  for (int i = 0; i < 10; ++i) buffer.record(event(i));
  ASSERT_TRUE(until_waiting(clock, 1));
  EXPECT_EQ(clock.advance(5ms), 1u);
  ASSERT_TRUE(until_calls(1));
  ASSERT_TRUE(until_waiting(clock, 1));
  EXPECT_EQ(clock.advance(5ms), 1u);  // an idle cycle
  ASSERT_TRUE(until_calls(2));
  std::lock_guard lock(mutex);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(seen_published, 10u);
}

TEST(ClickBufferTest, ConcurrentRecordersAreCountedExactly) {
  FakePublisher publisher;
  publisher.delay = 1ms;  // slow enough that the small buffer overflows sometimes
  ClickBuffer buffer(publisher, fast(2000, 256));
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&buffer, t] {
      for (int i = 0; i < 10000; ++i) buffer.record(event(t * 10000 + i));
    });
  }
  for (auto& thread : threads) thread.join();
  buffer.stop(10s);
  EXPECT_EQ(buffer.published() + buffer.dropped(), 80000u);
  std::lock_guard lock(publisher.mutex);
  EXPECT_EQ(publisher.codes.size(), buffer.published());
}

}  // namespace
}  // namespace kurz::redirect
