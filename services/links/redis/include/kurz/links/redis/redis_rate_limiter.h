#pragma once
// The creation rate limit counted in Redis, so that it holds across every instance behind the
// load balancer. Key: kurz:ratelimit:create:<client>:<window index>, expiring with its window.

#include "kurz/common/clock.h"
#include "kurz/links/rate_limiter.h"
#include "kurz/redis/client.h"

namespace kurz::links::redis {

class RedisRateLimiter final : public RateLimiter {
 public:
  RedisRateLimiter(kurz::redis::Client& client, RateLimit limit, const common::Clock& clock)
      : client_(client), limit_(limit), clock_(clock) {}
  common::Result<RateDecision> hit(std::string_view client) override;

 private:
  kurz::redis::Client& client_;
  RateLimit limit_;
  const common::Clock& clock_;
};

}  // namespace kurz::links::redis
