#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

namespace kurz::common {

// Every timestamp in kurz is a point on the system clock, interpreted as UTC.
using TimePoint = std::chrono::system_clock::time_point;

// The source of "now", and of waiting for a while. Injected everywhere so that tests control time
// instead of sleeping: a component that reads the time or waits with a timeout takes a Clock, and
// its tests drive a ManualClock. Implementations must be thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;

  // Waits on `cv`, whose mutex `lock` holds (as condition_variable::wait_for does), until
  // `ready()` is true or `timeout` has passed on this clock. Returns ready(). `ready` is called
  // with the lock held; whoever makes it true notifies `cv` as usual.
  virtual bool wait_for(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                        std::chrono::nanoseconds timeout,
                        const std::function<bool()>& ready) const = 0;
};

// The real clock: now() is the wall clock; wait_for() measures its timeout on the steady clock
// (condition_variable::wait_for), so that a step of the wall clock neither shortens nor stretches
// a wait.
class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::system_clock::now(); }
  bool wait_for(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                std::chrono::nanoseconds timeout,
                const std::function<bool()>& ready) const override {
    return cv.wait_for(lock, timeout, ready);
  }
};

// The one real clock of the process: the default wherever a component takes a Clock.
const Clock& system_clock();

// A clock that only moves when told to. Thread-safe: set/advance may race with now().
//
// Waits measure their timeout on this clock: a thread in wait_for() returns when its predicate
// holds or when set()/advance() has moved the clock past its deadline, never because real time
// passed. advance() and set() are synchronous: they return only once every thread that was waiting
// on this clock has seen the new time (it has either left wait_for() or gone back to waiting), and
// they return how many of those waits the move ended. So a test can say "advancing 49 ms ends no
// wait, the 50th ms ends the backoff" without sleeping and without a race.
//
// Driving the clock while holding a mutex that a waiter uses would deadlock; tests do not.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = TimePoint{}) : ticks_(start.time_since_epoch().count()) {}

  TimePoint now() const override { return TimePoint(TimePoint::duration(ticks_.load())); }
  std::size_t set(TimePoint t);
  std::size_t advance(TimePoint::duration d);

  bool wait_for(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                std::chrono::nanoseconds timeout,
                const std::function<bool()>& ready) const override;

  // How many threads are inside wait_for() now: lets a test wait until a background thread has
  // reached its timed wait before moving the clock.
  std::size_t waiting() const;

 private:
  struct Waiter;
  std::size_t move(bool by, TimePoint::rep ticks);  // by: add `ticks`, else set them

  std::atomic<TimePoint::rep> ticks_;
  mutable std::mutex mutex_;                 // guards everything below
  mutable std::condition_variable acked_;    // a waiter saw a move, left, or a move finished
  mutable std::vector<Waiter*> waiters_;     // inside wait_for()
  mutable std::uint64_t moves_ = 0;          // set()/advance() calls so far
  mutable std::uint64_t notifying_ = 0;      // moves still touching waiters_ entries
  mutable std::uint64_t ended_by_time_ = 0;  // waits that ended at their deadline
};

}  // namespace kurz::common
