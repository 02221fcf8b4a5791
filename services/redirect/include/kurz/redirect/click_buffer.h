#pragma once
// The redirect side of "no click lost": click events go into a bounded in-process buffer and a
// background thread hands them to a ClickPublisher (a Redis stream, in production) in batches.
// The redirect hot path never waits for the network.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "kurz/common/click.h"
#include "kurz/common/clock.h"
#include "kurz/common/error.h"

namespace kurz::redirect {

// Where the buffer sends its batches. Called from one thread only (the buffer's flusher).
// `sequence` numbers batches from 1 and grows by one per new batch; a batch that failed is passed
// again, unchanged and with the same sequence, until it succeeds. An error means "maybe not
// published": the batch may or may not have reached the store, so a publisher that must not
// duplicate uses `sequence` to make retries idempotent. Must return within a bounded time.
class ClickPublisher {
 public:
  virtual ~ClickPublisher() = default;
  virtual common::Result<void> publish(std::uint64_t sequence,
                                       const std::vector<common::ClickEvent>& batch) = 0;
};

// A ClickSink that buffers up to `capacity` events and publishes them in batches of at most
// `batch_size`, every `interval` or as soon as a batch is full. While the publisher fails, events
// stay buffered and the batch is retried with a backoff (min_backoff doubling to max_backoff);
// events that do not fit are refused and counted in dropped(). Nothing is lost silently:
// at every moment, recorded = published() + dropped() + pending().
//
// Thread-safe. record() takes one short mutex section, moves the event into preallocated
// storage (no allocation) and never blocks on I/O.
//
// Time: every wait (the interval, the backoff, the timeouts of flush() and stop()) is measured on
// the Clock given to the constructor, through Clock::wait_for. Production passes nothing and gets
// the real clock; tests pass a common::ManualClock and move it, which wakes the flusher at once:
// nothing in the buffer sleeps on real time.
class ClickBuffer final : public common::ClickSink {
 public:
  struct Counters {
    std::uint64_t pending = 0;    // buffered or being published
    std::uint64_t published = 0;  // acknowledged by the publisher, since start
    std::uint64_t dropped = 0;    // refused (full, or recorded after stop), since start
  };

  struct Options {
    std::size_t capacity = 100000;
    std::size_t batch_size = 512;
    std::chrono::milliseconds interval{20};
    std::chrono::milliseconds min_backoff{50};
    std::chrono::milliseconds max_backoff{2000};
    // Called by the flusher thread after every cycle (idle ones included, about every
    // `interval`) and after every failed attempt, and once by stop(): the hook for metrics. Must be
    // cheap and must not call back into the buffer.
    std::function<void(const Counters&)> observer;
  };

  // Starts the flusher thread. `publisher` and `clock` must outlive the buffer.
  ClickBuffer(ClickPublisher& publisher, Options options,
              const common::Clock& clock = common::system_clock());
  // stop() with a zero timeout.
  ~ClickBuffer() override;
  ClickBuffer(const ClickBuffer&) = delete;
  ClickBuffer& operator=(const ClickBuffer&) = delete;

  void record(common::ClickEvent event) override;

  // Waits until everything recorded before the call is published (retrying at once, without
  // backoff, if a batch is failing), or until `timeout` has passed on the clock. True when nothing
  // recorded before the call is still pending. The buffer keeps working afterwards.
  bool flush(std::chrono::milliseconds timeout);

  // For shutdown: flush(timeout), retrying a failing batch every min_backoff instead of backing
  // off (the store may be restarting along with this process), then stop the flusher. Events
  // still pending after that are counted as dropped; later record() calls are refused and counted
  // as dropped. Idempotent.
  void stop(std::chrono::milliseconds timeout);

  std::uint64_t pending() const;
  std::uint64_t published() const;
  std::uint64_t dropped() const;
  Counters counters() const;

 private:
  void run();
  void publish_taken(std::vector<common::ClickEvent>& taken);
  void notify_observer();
  Counters counters_locked() const;

  ClickPublisher& publisher_;
  const Options options_;
  const common::Clock& clock_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;           // the flusher: a full batch, a flush, or stop
  std::condition_variable progress_;       // flush(): something was published
  std::vector<common::ClickEvent> queue_;  // recorded, not yet taken by the flusher
  std::uint64_t in_flight_ = 0;            // taken by the flusher, not yet published
  std::uint64_t accepted_ = 0;
  std::uint64_t published_ = 0;
  std::uint64_t dropped_ = 0;
  std::uint64_t flush_requests_ = 0;  // bumped by flush(): skip the backoff
  bool stop_requested_ = false;
  bool stopping_ = false;  // the flusher must exit
  bool stopped_ = false;
  std::uint64_t sequence_ = 0;  // the flusher's only
  std::thread flusher_;
};

}  // namespace kurz::redirect
