#include "kurz/links/rate_limiter.h"

namespace kurz::links {

std::int64_t window_index(common::TimePoint now, std::chrono::milliseconds window) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
  return ms.count() / window.count();
}

std::chrono::milliseconds window_left(common::TimePoint now, std::chrono::milliseconds window) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
  return window - std::chrono::milliseconds(ms.count() % window.count());
}

common::Result<RateDecision> MemoryRateLimiter::hit(std::string_view client) {
  if (limit_.limit <= 0) return RateDecision{};
  const auto now = clock_.now();
  const auto window = window_index(now, limit_.window);
  std::lock_guard lock(mutex_);
  if (window != window_) {
    counts_.clear();  // bounded: only the current window's clients are kept
    window_ = window;
  }
  const auto count = ++counts_[std::string(client)];
  if (count <= limit_.limit) return RateDecision{};
  return RateDecision{false, window_left(now, limit_.window)};
}

}  // namespace kurz::links
