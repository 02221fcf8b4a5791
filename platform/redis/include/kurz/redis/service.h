#pragma once
// Connecting a service to Redis from its configuration, the same way in every service:
//   REDIS_URL                 required here (checked and parsed at start-up)
//   REDIS_CONNECT_TIMEOUT_MS  250    REDIS_COMMAND_TIMEOUT_MS  250    REDIS_POOL_SIZE
//   HTTP_THREADS+2
// and a readiness check "redis" (PING): readiness follows Redis, liveness never does.

#include <memory>

#include "kurz/platform/service_main.h"
#include "kurz/redis/client.h"

namespace kurz::redis {

// Throws platform::ConfigError (every configuration problem so far, plus this one) when REDIS_URL
// is missing or malformed.
Options options_from(platform::ServiceContext& context);

// A client, with the readiness check registered.
std::shared_ptr<Client> connect(platform::ServiceContext& context);

}  // namespace kurz::redis
