#pragma once
// Client options for a test RedisServer: short timeouts and a short backoff, so that tests of
// outages are fast and their bounds tight.

#include <chrono>

#include "kurz/redis/client.h"
#include "redis_server.h"

namespace kurz::testing {

inline redis::Options client_options(
    const RedisServer& server,
    std::chrono::milliseconds command_timeout = std::chrono::milliseconds(200)) {
  redis::Options options;
  options.url = redis::parse_url(server.url()).value();
  options.connect_timeout = std::chrono::milliseconds(200);
  options.command_timeout = command_timeout;
  options.max_backoff = std::chrono::milliseconds(300);
  return options;
}

}  // namespace kurz::testing
