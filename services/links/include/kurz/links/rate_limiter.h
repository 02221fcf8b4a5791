#pragma once
// Rate limiting of link creation per client, in fixed windows: at most `limit` create attempts
// per client per `window`. Every attempt counts, successful or not (400, 409, 415, and the 429s
// themselves): a failed attempt costs the server as much as a good one and costs the client
// nothing, so a limit on successes alone would let one client probe slugs (409) or hammer the
// validation without end. A user who mistypes a few times stays far below the budget. The memory
// limiter counts per instance (stage 1); the Redis one counts across every instance (stages 2 and
// 3), which is what a limit behind a load balancer needs.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "kurz/common/clock.h"
#include "kurz/common/error.h"

namespace kurz::links {

struct RateLimit {
  std::int64_t limit = 30;  // 0: unlimited
  std::chrono::milliseconds window{60000};
};

struct RateDecision {
  bool allowed = true;
  std::chrono::milliseconds retry_after{0};  // when refused: until the window ends
};

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // Counts one attempt by `client` and says whether it is within the limit. Thread-safe.
  virtual common::Result<RateDecision> hit(std::string_view client) = 0;
};

class MemoryRateLimiter final : public RateLimiter {
 public:
  MemoryRateLimiter(RateLimit limit, const common::Clock& clock) : limit_(limit), clock_(clock) {}
  common::Result<RateDecision> hit(std::string_view client) override;

 private:
  RateLimit limit_;
  const common::Clock& clock_;
  std::mutex mutex_;
  std::int64_t window_ = -1;  // the window the counts belong to; older counts are dropped
  std::unordered_map<std::string, std::int64_t> counts_;
};

// The window index of `now` and the time left in it.
std::int64_t window_index(common::TimePoint now, std::chrono::milliseconds window);
std::chrono::milliseconds window_left(common::TimePoint now, std::chrono::milliseconds window);

}  // namespace kurz::links
