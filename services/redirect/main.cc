// kurz-redirect (stage 3): GET /{code} → 302, the hot path. Links come from Redis through a
// per-instance cache (LINK_CACHE_TTL_MS, LINK_CACHE_SIZE); clicks go to the kurz:clicks:v2 stream
// through a bounded buffer, never a synchronous round trip (see click_pipeline.h).
#include "kurz/common/clock.h"
#include "kurz/links/cached_link_reader.h"
#include "kurz/links/http/routes.h"
#include "kurz/links/redis/redis_link_store.h"
#include "kurz/platform/service_main.h"
#include "kurz/redirect/http/routes.h"
#include "kurz/redirect/redirector.h"
#include "kurz/redirect/redis/click_pipeline.h"
#include "kurz/redis/service.h"

namespace {

struct Redirect {
  Redirect(kurz::redis::Client& redis, kurz::platform::ServiceContext& context,
           std::chrono::milliseconds ttl, std::size_t capacity,
           kurz::redirect::redis::ClickPipelineOptions buffer)
      : store(redis),
        cache(store, clock, ttl, capacity),
        clicks(redis, context.config.instance_id, context.metrics, std::move(buffer)),
        redirector(cache, clicks.sink(), clock) {}
  kurz::common::SystemClock clock;
  kurz::links::redis::RedisLinkStore store;
  kurz::links::CachedLinkReader cache;
  kurz::redirect::redis::ClickPipeline clicks;
  kurz::redirect::Redirector redirector;
};

}  // namespace

int main() {
  return kurz::platform::run_service("redirect", [](auto& context, auto& router) {
    const auto ttl =
        context.env.millis("LINK_CACHE_TTL_MS", std::chrono::seconds(30), std::chrono::hours(1));
    const auto capacity = context.env.integer("LINK_CACHE_SIZE", 10000, 1, 10'000'000);
    auto buffer = kurz::redirect::redis::read_click_pipeline_options(context.env);
    auto redis = kurz::redis::connect(context);
    auto redirect = std::make_shared<Redirect>(*redis, context, ttl,
                                               static_cast<std::size_t>(capacity), buffer);
    kurz::redirect::http::add_routes(router, redirect->redirector, context.metrics);
    kurz::links::http::add_cache_metrics(context.metrics, redirect->cache);
    // After the server drained: publish the clicks still buffered (CLICK_SHUTDOWN_FLUSH_MS).
    context.shutdown_hooks.push_back([redirect] { redirect->clicks.stop(); });
    context.owned.push_back(redirect);
  });
}
