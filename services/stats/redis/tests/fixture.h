#pragma once
// Shared helpers of the stats/redis tests (each test starts its own redis-server).

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "kurz/clickstream/stream.h"
#include "kurz/common/click.h"
#include "kurz/redis/client.h"
#include "redis_client_options.h"
#include "redis_server.h"

namespace kurz::stats::redis::test {

using namespace std::chrono_literals;

inline kurz::redis::Options options_for(const testing::RedisServer& server) {
  return testing::client_options(server, std::chrono::milliseconds(500));
}

// Polls `done` every 5 ms until it holds or `timeout` passes; returns its last value.
inline bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// 2026-11-23 plus `day` days, at noon UTC.
inline common::TimePoint day_at(int day) {
  return common::TimePoint{} + std::chrono::seconds(1795435200 + 86400LL * day);
}

inline common::ClickEvent click(std::string code, int day = 0, std::string referrer = "",
                                std::string user_agent = "") {
  return {day_at(day), std::move(code), std::move(referrer), std::move(user_agent)};
}

// A format 2 entry (not in any stream: id 0-0) carrying `events` aggregated.
inline clickstream::Entry entry_of(const std::vector<common::ClickEvent>& events) {
  clickstream::Entry entry;
  entry.stream = clickstream::Stream::V2;
  entry.id = "0-0";
  entry.kind = clickstream::Entry::Kind::Clicks;
  entry.clicks = events.size();
  entry.rows = clickstream::aggregate(events);
  return entry;
}

// The producer released before format 2 (its script verbatim): one kurz:clicks entry per click,
// fields t c r u, appended once per sequence. The "old replica" of the rolling-update tests.
class LegacyPublisher {
 public:
  LegacyPublisher(kurz::redis::Client& client, std::string producer_key)
      : client_(client), key_(std::move(producer_key)) {}

  bool publish(std::uint64_t sequence, const std::vector<common::ClickEvent>& batch) {
    std::vector<std::string> args{std::to_string(sequence), "86400"};
    for (const auto& event : batch) {
      args.push_back(std::to_string(
          std::chrono::duration_cast<std::chrono::milliseconds>(event.at.time_since_epoch())
              .count()));
      args.push_back(event.code);
      args.push_back(event.referrer);
      args.push_back(event.user_agent);
    }
    const auto reply =
        client_.eval(script(), {std::string(clickstream::kLegacyStream), key_}, args);
    return reply.ok() && reply.value().type == kurz::redis::Reply::Type::Integer;
  }

 private:
  static const kurz::redis::Script& script() {
    static const kurz::redis::Script append(R"lua(
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
    return append;
  }

  kurz::redis::Client& client_;
  std::string key_;
};

}  // namespace kurz::stats::redis::test
