#include "kurz/common/clock.h"

#include <algorithm>

namespace kurz::common {

struct ManualClock::Waiter {
  std::mutex* mutex;
  std::condition_variable* cv;
  std::uint64_t seen;  // the last move this waiter has checked its deadline against
};

std::size_t ManualClock::set(TimePoint t) { return move(false, t.time_since_epoch().count()); }

std::size_t ManualClock::advance(TimePoint::duration d) { return move(true, d.count()); }

// Lock order: a waiter's own mutex, then mutex_. move() never holds mutex_ while it takes a
// waiter's mutex, and a waiter leaves waiters_ only once no move() is still notifying it.
std::size_t ManualClock::move(bool by, TimePoint::rep ticks) {
  std::vector<Waiter*> snapshot;
  std::uint64_t move = 0;
  std::uint64_t ended_before = 0;
  {
    std::lock_guard guard(mutex_);
    if (by) {
      ticks_.fetch_add(ticks);
    } else {
      ticks_.store(ticks);
    }
    move = ++moves_;
    ended_before = ended_by_time_;
    snapshot = waiters_;
    ++notifying_;
  }
  for (Waiter* waiter : snapshot) {
    // Taking the waiter's mutex orders this notify after its check of the deadline: it is either
    // already waiting on cv (and wakes) or will see the new time.
    std::lock_guard waiter_lock(*waiter->mutex);
    waiter->cv->notify_all();
  }
  std::unique_lock guard(mutex_);
  --notifying_;
  acked_.notify_all();
  acked_.wait(guard, [&] {
    return std::all_of(waiters_.begin(), waiters_.end(),
                       [&](const Waiter* waiter) { return waiter->seen >= move; });
  });
  return ended_by_time_ - ended_before;
}

bool ManualClock::wait_for(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                           std::chrono::nanoseconds timeout,
                           const std::function<bool()>& ready) const {
  const TimePoint deadline = now() + std::chrono::duration_cast<TimePoint::duration>(timeout);
  Waiter self{lock.mutex(), &cv, 0};
  bool timed_out = false;
  {
    std::lock_guard guard(mutex_);
    self.seen = moves_;
    waiters_.push_back(&self);
  }
  while (true) {
    std::uint64_t seen = 0;
    {
      std::lock_guard guard(mutex_);
      seen = moves_;  // ticks_ was stored before moves_ grew: now() below is at least this new
    }
    if (ready()) break;
    if (now() >= deadline) {
      timed_out = timeout.count() > 0;  // a positive timeout ends only when a move passes it
      break;
    }
    {
      std::lock_guard guard(mutex_);
      self.seen = seen;
      acked_.notify_all();
    }
    cv.wait(lock);
  }
  lock.unlock();
  {
    std::unique_lock guard(mutex_);
    waiters_.erase(std::find(waiters_.begin(), waiters_.end(), &self));
    if (timed_out) ++ended_by_time_;
    acked_.notify_all();
    acked_.wait(guard, [&] { return notifying_ == 0; });
  }
  lock.lock();
  return ready();
}

const Clock& system_clock() {
  static const SystemClock clock;
  return clock;
}

std::size_t ManualClock::waiting() const {
  std::lock_guard guard(mutex_);
  return waiters_.size();
}

}  // namespace kurz::common
