#include "kurz/redis/service.h"

namespace kurz::redis {

Options options_from(platform::ServiceContext& context) {
  auto& env = context.env;
  Options options;
  if (context.config.redis_url.empty()) {
    env.problem("REDIS_URL is required by the " + context.config.service +
                " service (e.g. redis://redis:6379)");
  } else {
    auto url = parse_url(context.config.redis_url);
    if (url.ok()) {
      options.url = std::move(url).value();
    } else {
      env.problem(url.error().message);
    }
  }
  options.connect_timeout =
      env.millis("REDIS_CONNECT_TIMEOUT_MS", options.connect_timeout, std::chrono::seconds(30));
  options.command_timeout =
      env.millis("REDIS_COMMAND_TIMEOUT_MS", options.command_timeout, std::chrono::seconds(30));
  options.pool_size = static_cast<std::size_t>(env.integer(
      "REDIS_POOL_SIZE", static_cast<std::int64_t>(context.config.http_threads + 2), 1, 256));
  env.finish();
  return options;
}

std::shared_ptr<Client> connect(platform::ServiceContext& context) {
  auto client = std::make_shared<Client>(options_from(context));
  context.health.add("redis", health::Probe::Readiness, [weak = std::weak_ptr<Client>(client)] {
    const auto redis = weak.lock();
    if (!redis) return health::CheckResult{false, "stopped"};
    const auto pong = redis->ping();
    return pong.ok() ? health::CheckResult{true, "reachable"}
                     : health::CheckResult{false, "unreachable"};
  });
  context.owned.push_back(client);
  return client;
}

}  // namespace kurz::redis
