#pragma once
// Shared helpers of the stats/redis tests (each test starts its own redis-server).

#include <chrono>
#include <functional>
#include <string>
#include <thread>

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

}  // namespace kurz::stats::redis::test
