#include "kurz/redirect/click_buffer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace kurz::redirect {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

// Fails the first `failures` calls (then succeeds unless `always_fail`), optionally slowly.
class FakePublisher final : public ClickPublisher {
 public:
  common::Result<void> publish(std::uint64_t sequence,
                               const std::vector<common::ClickEvent>& batch) override {
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    std::lock_guard lock(mutex);
    attempts.push_back({sequence, batch.size()});
    if (failures > 0 || always_fail) {
      if (failures > 0) --failures;
      return common::Error{common::ErrorKind::Unavailable, "unavailable", "down"};
    }
    for (const auto& event : batch) codes.push_back(event.code);
    return {};
  }

  std::mutex mutex;
  std::atomic<int> failures{0};
  std::atomic<bool> always_fail{false};
  std::chrono::milliseconds delay{0};
  std::vector<std::pair<std::uint64_t, std::size_t>> attempts;  // sequence, size
  std::vector<std::string> codes;
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

TEST(ClickBufferTest, AFullBatchGoesOutWithoutWaitingForTheInterval) {
  FakePublisher publisher;
  auto options = fast(1000, 100);
  options.interval = 10s;
  ClickBuffer buffer(publisher, options);
  for (int i = 0; i < 100; ++i) buffer.record(event(i));
  const auto deadline = SteadyClock::now() + 2s;
  while (buffer.published() < 100 && SteadyClock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  EXPECT_EQ(buffer.published(), 100u);
}

TEST(ClickBufferTest, AFailedBatchIsRetriedUnchangedWithTheSameSequence) {
  FakePublisher publisher;
  publisher.failures = 3;
  ClickBuffer buffer(publisher, fast());
  for (int i = 0; i < 10; ++i) buffer.record(event(i));
  const auto deadline = SteadyClock::now() + 5s;
  while (buffer.published() < 10 && SteadyClock::now() < deadline) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(buffer.published(), 10u);
  std::lock_guard lock(publisher.mutex);
  ASSERT_GE(publisher.attempts.size(), 4u);
  for (std::size_t i = 1; i < 4; ++i) EXPECT_EQ(publisher.attempts[i], publisher.attempts[0]);
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

TEST(ClickBufferTest, RecordNeverWaitsForASlowPublisher) {
  FakePublisher publisher;
  publisher.delay = 300ms;
  ClickBuffer buffer(publisher, fast(100000, 4));
  buffer.record(event(0));
  std::this_thread::sleep_for(20ms);  // the flusher is now inside publish()
  const auto started = SteadyClock::now();
  for (int i = 1; i < 1000; ++i) buffer.record(event(i));
  EXPECT_LT(SteadyClock::now() - started, 100ms);
  EXPECT_EQ(buffer.dropped(), 0u);
}

TEST(ClickBufferTest, StopFlushesWhatIsLeft) {
  FakePublisher publisher;
  auto options = fast(100000, 1000);
  options.interval = 10s;  // only stop() can make it publish
  ClickBuffer buffer(publisher, options);
  for (int i = 0; i < 500; ++i) buffer.record(event(i));
  buffer.stop(5s);
  EXPECT_EQ(buffer.published(), 500u);
  EXPECT_EQ(buffer.dropped(), 0u);
  buffer.record(event(500));  // after stop: refused, counted
  EXPECT_EQ(buffer.dropped(), 1u);
}

TEST(ClickBufferTest, StopIsBoundedWhenThePublisherKeepsFailing) {
  FakePublisher publisher;
  publisher.always_fail = true;
  ClickBuffer buffer(publisher, fast());
  for (int i = 0; i < 300; ++i) buffer.record(event(i));
  const auto started = SteadyClock::now();
  buffer.stop(200ms);
  EXPECT_LT(SteadyClock::now() - started, 1s);
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
  ClickBuffer buffer(publisher, options);
  for (int i = 0; i < 200; ++i) buffer.record(event(i));
  std::this_thread::sleep_for(700ms);  // retries at 0, 10, 30, 70, 150, 310, 630 ms: backoff 640 ms
  std::thread recover([&] {
    std::this_thread::sleep_for(150ms);
    publisher.always_fail = false;
  });
  const auto started = SteadyClock::now();
  buffer.stop(1s);
  recover.join();
  EXPECT_LT(SteadyClock::now() - started, 700ms);
  EXPECT_EQ(buffer.published(), 200u);
  EXPECT_EQ(buffer.dropped(), 0u);
}

TEST(ClickBufferTest, ObserverSeesTheCounters) {
  FakePublisher publisher;
  std::atomic<std::uint64_t> seen_published{0};
  auto options = fast();
  options.observer = [&](const ClickBuffer::Counters& c) { seen_published = c.published; };
  ClickBuffer buffer(publisher, options);
  for (int i = 0; i < 10; ++i) buffer.record(event(i));
  ASSERT_TRUE(buffer.flush(5s));
  const auto deadline = SteadyClock::now() + 2s;
  while (seen_published < 10 && SteadyClock::now() < deadline) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(seen_published.load(), 10u);
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
