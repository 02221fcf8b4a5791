#include "kurz/redis/service.h"

namespace kurz::redis {

Options options_from(platform::ServiceContext& context) {
  auto& env = context.env;
  Options options;
  const auto& sentinels = context.config.redis_sentinels;
  if (context.config.redis_url.empty() && sentinels.empty()) {
    env.problem("REDIS_URL (or REDIS_SENTINELS) is required by the " + context.config.service +
                " service (e.g. redis://redis:6379)");
  } else if (!context.config.redis_url.empty()) {
    auto url = parse_url(context.config.redis_url);
    if (url.ok()) {
      options.url = std::move(url).value();
    } else {
      env.problem(url.error().message);
    }
  }
  if (!sentinels.empty()) {
    auto parsed = parse_sentinels(sentinels);
    if (parsed.ok()) {
      options.url.sentinels = std::move(parsed).value();
    } else {
      env.problem(parsed.error().message);
    }
  }
  if (const auto name = env.raw("REDIS_MASTER_NAME"); name && !name->empty()) {
    if (valid_master_name(*name)) {
      options.url.master_name = *name;
    } else {
      env.problem(
          "REDIS_MASTER_NAME=\"" + *name +
          "\": 1 to 64 of letters, digits, '.', '_' and '-' (Sentinel's name of the primary)");
    }
  }
  if (const auto wait = env.raw("REDIS_WAIT_REPLICAS"); wait && !wait->empty() && *wait != "auto") {
    options.wait_replicas = static_cast<int>(env.integer("REDIS_WAIT_REPLICAS", 0, 0, 16));
  }
  options.wait_timeout =
      env.millis("REDIS_WAIT_TIMEOUT_MS", options.wait_timeout, std::chrono::seconds(30));
  if (options.wait_timeout.count() == 0) {
    env.problem("REDIS_WAIT_TIMEOUT_MS=0 would make WAIT block forever: give 1 or more");
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
