#pragma once
// Stage 2: the monolith's state in Redis, exactly as the stage 3 services keep it: links (read
// through a per-instance cache for redirects and QR codes), creation rate limits across
// instances, and clicks through the kurz:clicks:v2 stream into this process's stats worker (a
// member of the same consumer group as stage 3's stats services).

#include <chrono>
#include <memory>
#include <string>

#include "kurz/monolith/monolith.h"
#include "kurz/redirect/redis/click_pipeline.h"
#include "kurz/redis/client.h"
#include "kurz/stats/redis/click_consumer.h"

namespace kurz::monolith {

struct RedisBackendOptions {
  std::string instance;
  links::RateLimit create_limit;
  std::chrono::milliseconds cache_ttl{30000};
  std::size_t cache_size = 10000;
  redirect::redis::ClickPipelineOptions clicks;
  stats::redis::ConsumerOptions consumer;
};

class RedisBackend {
 public:
  // `client`, `metrics` and `clock` must outlive the backend. The stats worker starts at once.
  RedisBackend(kurz::redis::Client& client, platform::Metrics& metrics, const common::Clock& clock,
               RedisBackendOptions options);
  ~RedisBackend();
  Backend backend();
  // Publishes the clicks still buffered and stops the stats worker; call after the server drained.
  void stop();

 private:
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

}  // namespace kurz::monolith
