#include "kurz/redirect/redis/click_publisher.h"

#include <chrono>
#include <random>

#include "kurz/redis/client.h"

namespace kurz::redirect::redis {
namespace {

// KEYS[1] the stream, KEYS[2] this producer's key. ARGV[1] the batch sequence, ARGV[2] the
// producer key's TTL, then four per event: t, c, r, u. Returns the number of entries appended
// (0 for a batch appended before).
const kurz::redis::Script kAppend(R"lua(
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
if tonumber(ARGV[1]) <= last then return 0 end
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
local n = 0
for i = 3, #ARGV, 4 do
  redis.call('XADD', KEYS[1], '*', 't', ARGV[i], 'c', ARGV[i + 1], 'r', ARGV[i + 2],
             'u', ARGV[i + 3])
  n = n + 1
end
return n
)lua");

constexpr const char* kProducerTtlSeconds = "86400";

std::string random_suffix() {
  std::random_device device;
  std::uint64_t value = (std::uint64_t{device()} << 32) ^ device();
  static const char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (auto& c : out) {
    c = kHex[value & 0xf];
    value >>= 4;
  }
  return out;
}

}  // namespace

RedisClickPublisher::RedisClickPublisher(kurz::redis::Client& client, const std::string& instance)
    : client_(client), producer_key_("kurz:clicks:producer:" + instance + ":" + random_suffix()) {}

common::Result<void> RedisClickPublisher::publish(std::uint64_t sequence,
                                                  const std::vector<common::ClickEvent>& batch) {
  args_.clear();
  args_.reserve(2 + 4 * batch.size());
  args_.push_back(std::to_string(sequence));
  args_.push_back(kProducerTtlSeconds);
  for (const auto& event : batch) {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(event.at.time_since_epoch());
    args_.push_back(std::to_string(ms.count()));
    args_.push_back(event.code);
    args_.push_back(event.referrer);
    args_.push_back(event.user_agent);
  }
  auto reply = client_.eval(kAppend, {kClickStream, producer_key_}, args_);
  if (!reply.ok()) return reply.error();
  if (reply.value().is_error()) {
    return common::Error{common::ErrorKind::Unavailable, "unavailable", reply.value().str};
  }
  return {};
}

}  // namespace kurz::redirect::redis
