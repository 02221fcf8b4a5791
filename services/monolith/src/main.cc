// kurz-monolith: every module in one process. Stage 1 keeps state in memory; stage 2 (REDIS_URL
// set) keeps it in Redis, shared by every instance. Configuration: see the README's table.
#include "kurz/common/clock.h"
#include "kurz/links/http/routes.h"
#include "kurz/monolith/monolith.h"
#include "kurz/monolith/redis_backend.h"
#include "kurz/platform/service_main.h"
#include "kurz/redirect/redis/click_pipeline.h"
#include "kurz/redis/service.h"
#include "kurz/stats/redis/stats_worker.h"

namespace {

using kurz::platform::ServiceContext;

// Stage 2: state in Redis. Returns the backend's stores; `context` keeps everything alive.
kurz::monolith::Backend redis_backend(ServiceContext& context, const kurz::common::Clock& clock,
                                      kurz::links::RateLimit limit) {
  kurz::monolith::RedisBackendOptions options;
  options.instance = context.config.instance_id;
  options.create_limit = limit;
  options.cache_ttl =
      context.env.millis("LINK_CACHE_TTL_MS", options.cache_ttl, std::chrono::hours(1));
  options.cache_size =
      static_cast<std::size_t>(context.env.integer("LINK_CACHE_SIZE", 10000, 1, 10'000'000));
  options.clicks = kurz::redirect::redis::read_click_pipeline_options(context.env);
  options.consumer =
      kurz::stats::redis::read_consumer_options(context.env, context.config.instance_id);
  auto redis = kurz::redis::connect(context);
  auto backend = std::make_shared<kurz::monolith::RedisBackend>(*redis, context.metrics, clock,
                                                                std::move(options));
  context.shutdown_hooks.push_back([backend] { backend->stop(); });
  context.owned.push_back(backend);
  return backend->backend();
}

}  // namespace

int main() {
  return kurz::platform::run_service("monolith", [](ServiceContext& context, auto& router) {
    const auto limit = kurz::links::http::read_rate_limit(context.env);
    auto clock = std::make_shared<kurz::common::SystemClock>();
    context.owned.push_back(clock);
    kurz::monolith::Backend backend = [&] {
      if (context.config.uses_redis()) return redis_backend(context, *clock, limit);
      auto memory = std::make_shared<kurz::monolith::MemoryBackend>(limit, *clock);
      context.owned.push_back(memory);
      return memory->backend();
    }();
    auto monolith = std::make_shared<kurz::monolith::Monolith>(
        kurz::monolith::Settings{context.config.public_base_url, context.config.api_key, limit},
        *clock, context.metrics, backend);
    monolith->add_routes(router);
    context.owned.push_back(monolith);
  });
}
