// kurz-links (stage 3): create, read, list and delete short links; state in Redis.
#include "kurz/common/clock.h"
#include "kurz/links/http/routes.h"
#include "kurz/links/link_service.h"
#include "kurz/links/redis/redis_link_store.h"
#include "kurz/links/redis/redis_rate_limiter.h"
#include "kurz/platform/service_main.h"
#include "kurz/redis/service.h"

namespace {

struct Links {
  Links(kurz::redis::Client& redis, kurz::links::RateLimit limit)
      : store(redis), limiter(redis, limit, clock), service(store, clock) {}
  kurz::common::SystemClock clock;
  kurz::links::redis::RedisLinkStore store;
  kurz::links::redis::RedisRateLimiter limiter;
  kurz::links::LinkService service;
};

}  // namespace

int main() {
  return kurz::platform::run_service("links", [](auto& context, auto& router) {
    const auto limit = kurz::links::http::read_rate_limit(context.env);
    auto redis = kurz::redis::connect(context);
    auto links = std::make_shared<Links>(*redis, limit);
    kurz::links::http::add_routes(
        router, links->service, context.metrics,
        {context.config.public_base_url, context.config.api_key, &links->limiter});
    context.owned.push_back(links);
  });
}
