#include "kurz/monolith/redis_backend.h"

#include "kurz/links/cached_link_reader.h"
#include "kurz/links/http/routes.h"
#include "kurz/links/redis/redis_link_store.h"
#include "kurz/links/redis/redis_rate_limiter.h"
#include "kurz/redirect/redis/click_pipeline.h"
#include "kurz/stats/redis/redis_stats_store.h"
#include "kurz/stats/redis/stats_worker.h"

namespace kurz::monolith {

struct RedisBackend::Parts {
  Parts(kurz::redis::Client& client, platform::Metrics& metrics, const common::Clock& clock,
        RedisBackendOptions options)
      : links(client),
        cache(links, clock, options.cache_ttl, options.cache_size),
        limiter(client, options.create_limit, clock),
        stats(client),
        clicks(client, options.instance, metrics, std::move(options.clicks)),
        worker(client.options(), metrics, std::move(options.consumer)) {}

  links::redis::RedisLinkStore links;
  links::CachedLinkReader cache;
  links::redis::RedisRateLimiter limiter;
  stats::redis::RedisStatsStore stats;
  redirect::redis::ClickPipeline clicks;
  stats::redis::StatsWorker worker;
};

RedisBackend::RedisBackend(kurz::redis::Client& client, platform::Metrics& metrics,
                           const common::Clock& clock, RedisBackendOptions options)
    : parts_(std::make_unique<Parts>(client, metrics, clock, std::move(options))) {
  links::http::add_cache_metrics(metrics, parts_->cache);
}

RedisBackend::~RedisBackend() = default;

Backend RedisBackend::backend() {
  return Backend{parts_->links, parts_->cache, parts_->limiter, parts_->stats,
                 parts_->clicks.sink()};
}

void RedisBackend::stop() {
  parts_->clicks.stop();
  parts_->worker.stop();
}

}  // namespace kurz::monolith
