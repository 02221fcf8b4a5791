#include "kurz/links/redis/redis_rate_limiter.h"

namespace kurz::links::redis {
namespace {

const kurz::redis::Script kHit(R"lua(
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count
)lua");

}  // namespace

common::Result<RateDecision> RedisRateLimiter::hit(std::string_view client) {
  if (limit_.limit <= 0) return RateDecision{};
  const auto now = clock_.now();
  const std::string key = "kurz:ratelimit:create:" + std::string(client) + ":" +
                          std::to_string(window_index(now, limit_.window));
  const auto reply = client_.eval(kHit, {key}, {std::to_string(limit_.window.count())});
  if (!reply.ok()) return reply.error();
  if (reply.value().type != kurz::redis::Reply::Type::Integer) {
    return common::Error{common::ErrorKind::Unavailable, "unavailable",
                         "the data store gave an unexpected answer"};
  }
  if (reply.value().integer <= limit_.limit) return RateDecision{};
  return RateDecision{false, window_left(now, limit_.window)};
}

}  // namespace kurz::links::redis
