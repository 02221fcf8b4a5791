#pragma once
// Connecting a service to Redis from its configuration, the same way in every service:
//   REDIS_URL                 required here unless REDIS_SENTINELS is set (then it only gives
//                             the password and db); redis:// or redis+sentinel:// (url.h)
//   REDIS_SENTINELS           host:port,...: find the primary through Redis Sentinel
//   REDIS_MASTER_NAME         kurz   Sentinel's name of the primary
//   REDIS_WAIT_REPLICAS       auto   replicas a create / click batch waits for (WAIT); auto: 1
//                             when the primary has a replica; 0: never
//   REDIS_WAIT_TIMEOUT_MS     1000
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
