#include "kurz/redirect/click_buffer.h"

#include <algorithm>
#include <iterator>

namespace kurz::redirect {

ClickBuffer::ClickBuffer(ClickPublisher& publisher, Options options, const common::Clock& clock)
    : publisher_(publisher), options_(std::move(options)), clock_(clock) {
  // Both halves of the double buffer get their full size now (pages are touched only when used),
  // so that record() never allocates.
  queue_.reserve(options_.capacity);
  flusher_ = std::thread([this] { run(); });
}

ClickBuffer::~ClickBuffer() { stop(std::chrono::milliseconds(0)); }

void ClickBuffer::record(common::ClickEvent event) {
  bool full_batch = false;
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() + in_flight_ >= options_.capacity) {
      ++dropped_;
      return;
    }
    queue_.push_back(std::move(event));
    ++accepted_;
    full_batch = queue_.size() == options_.batch_size;
  }
  if (full_batch) wake_.notify_one();
}

bool ClickBuffer::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  const std::uint64_t target = accepted_;
  ++flush_requests_;
  wake_.notify_one();
  // Batches go out in order, so published_ reaching target means all of them went out.
  clock_.wait_for(lock, progress_, timeout, [&] { return published_ >= target || stopped_; });
  return published_ >= target;
}

void ClickBuffer::stop(std::chrono::milliseconds timeout) {
  {
    std::lock_guard lock(mutex_);
    if (stop_requested_) return;
    stop_requested_ = true;
  }
  flush(timeout);
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (flusher_.joinable()) flusher_.join();
  {
    std::lock_guard lock(mutex_);
    dropped_ += queue_.size() + in_flight_;
    queue_.clear();
    in_flight_ = 0;
    stopped_ = true;
  }
  progress_.notify_all();
  notify_observer();
}

void ClickBuffer::run() {
  std::vector<common::ClickEvent> taken;
  taken.reserve(options_.capacity);
  std::uint64_t flushes_seen = 0;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    clock_.wait_for(lock, wake_, options_.interval, [&] {
      return stopping_ || queue_.size() >= options_.batch_size || flush_requests_ != flushes_seen;
    });
    if (stopping_) break;
    flushes_seen = flush_requests_;
    taken.swap(queue_);  // queue_ gets the other (empty, reserved) half
    in_flight_ += taken.size();
    lock.unlock();
    if (!taken.empty()) publish_taken(taken);
    notify_observer();
    lock.lock();
  }
}

// Publishes `taken` in batches, retrying each until it succeeds or the buffer stops. Leaves
// taken empty; what was not published stays counted in in_flight_ (stop() drops it).
void ClickBuffer::publish_taken(std::vector<common::ClickEvent>& taken) {
  std::vector<common::ClickEvent> batch;
  batch.reserve(std::min(options_.batch_size, taken.size()));
  for (auto next = taken.begin(); next != taken.end();) {
    const auto count =
        std::min<std::size_t>(options_.batch_size, static_cast<std::size_t>(taken.end() - next));
    batch.assign(std::make_move_iterator(next), std::make_move_iterator(next + count));
    next += static_cast<std::ptrdiff_t>(count);
    const std::uint64_t sequence = ++sequence_;
    auto backoff = options_.min_backoff;
    while (true) {
      const auto result = publisher_.publish(sequence, batch);
      std::unique_lock lock(mutex_);
      if (result.ok()) {
        in_flight_ -= count;
        published_ += count;
        lock.unlock();
        progress_.notify_all();
        break;
      }
      const std::uint64_t flushes = flush_requests_;
      lock.unlock();
      notify_observer();
      lock.lock();
      // A flush() asks for a retry now; stop() ends the retries.
      clock_.wait_for(lock, wake_, backoff,
                      [&] { return stopping_ || flush_requests_ != flushes; });
      if (stopping_) {
        taken.clear();
        return;
      }
      // Once stop() is flushing, the shutdown deadline bounds the retries, not the backoff: a
      // store that comes back (Redis restarting with the rest of the stack) is used at once.
      backoff =
          stop_requested_ ? options_.min_backoff : std::min(backoff * 2, options_.max_backoff);
    }
  }
  taken.clear();
}

void ClickBuffer::notify_observer() {
  if (!options_.observer) return;
  options_.observer(counters());
}

ClickBuffer::Counters ClickBuffer::counters_locked() const {
  return Counters{queue_.size() + in_flight_, published_, dropped_};
}

ClickBuffer::Counters ClickBuffer::counters() const {
  std::lock_guard lock(mutex_);
  return counters_locked();
}

std::uint64_t ClickBuffer::pending() const { return counters().pending; }
std::uint64_t ClickBuffer::published() const { return counters().published; }
std::uint64_t ClickBuffer::dropped() const { return counters().dropped; }

}  // namespace kurz::redirect
