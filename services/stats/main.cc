// kurz-stats (stage 3): consumes the click streams (kurz:clicks:v2, and the older kurz:clicks)
// in the "stats" consumer group (several instances share the work, each click is counted exactly
// once) and answers stats queries.
#include "kurz/links/redis/redis_link_store.h"
#include "kurz/platform/service_main.h"
#include "kurz/redis/service.h"
#include "kurz/stats/http/routes.h"
#include "kurz/stats/redis/redis_stats_store.h"
#include "kurz/stats/redis/stats_worker.h"
#include "kurz/stats/stats_service.h"

namespace {

struct Stats {
  Stats(kurz::redis::Client& redis, kurz::platform::Metrics& metrics,
        kurz::stats::redis::ConsumerOptions consumer)
      : links(redis),
        store(redis),
        service(links, store),
        worker(redis.options(), metrics, std::move(consumer)) {}
  kurz::links::redis::RedisLinkStore links;
  kurz::stats::redis::RedisStatsStore store;
  kurz::stats::StatsService service;
  kurz::stats::redis::StatsWorker worker;
};

}  // namespace

int main() {
  return kurz::platform::run_service("stats", [](auto& context, auto& router) {
    auto consumer =
        kurz::stats::redis::read_consumer_options(context.env, context.config.instance_id);
    auto redis = kurz::redis::connect(context);
    auto stats = std::make_shared<Stats>(*redis, context.metrics, std::move(consumer));
    kurz::stats::http::add_routes(router, stats->service);
    context.health.add("click-consumer", kurz::health::Probe::Readiness,
                       [weak = std::weak_ptr<Stats>(stats)] {
                         const auto alive = weak.lock();
                         const bool ok = alive && alive->worker.healthy();
                         return kurz::health::CheckResult{ok, ok ? "consuming" : "retrying"};
                       });
    context.shutdown_hooks.push_back([stats] { stats->worker.stop(); });
    context.owned.push_back(stats);
  });
}
