#include "kurz/stats/redis/stats_worker.h"

#include "kurz/stats/redis/consumer_metrics.h"

namespace kurz::stats::redis {

ConsumerOptions read_consumer_options(platform::EnvReader& env, const std::string& instance) {
  ConsumerOptions options;
  options.consumer = instance;
  options.batch_size = static_cast<std::size_t>(env.integer("STATS_BATCH_SIZE", 512, 1, 100000));
  options.apply_max_rows =
      static_cast<std::size_t>(env.integer("STATS_APPLY_ROWS", 4096, 1, 100000));
  options.apply_min_clicks = options.apply_max_rows;
  options.block = env.millis("STATS_BLOCK_MS", options.block, std::chrono::seconds(30));
  options.claim_min_idle =
      env.millis("STATS_CLAIM_IDLE_MS", options.claim_min_idle, std::chrono::hours(24));
  // Look for abandoned entries at least as often as they can become claimable.
  options.claim_interval = std::min(options.claim_interval, options.claim_min_idle);
  return options;
}

struct StatsWorker::Parts {
  Parts(const kurz::redis::Options& redis, platform::Metrics& metrics, ConsumerOptions options)
      : consumer_metrics(metrics.registry()),
        consumer(redis, with_observer(std::move(options), consumer_metrics)) {}

  static ConsumerOptions with_observer(ConsumerOptions options, ClickConsumerMetrics& metrics) {
    options.observer = metrics.observer();
    return options;
  }

  ClickConsumerMetrics consumer_metrics;
  ClickConsumer consumer;  // last: stopped before its metrics go
};

StatsWorker::StatsWorker(const kurz::redis::Options& redis, platform::Metrics& metrics,
                         ConsumerOptions options)
    : parts_(std::make_unique<Parts>(redis, metrics, std::move(options))) {
  parts_->consumer.start();
}

StatsWorker::~StatsWorker() = default;

bool StatsWorker::healthy() const { return parts_->consumer.healthy(); }

void StatsWorker::stop() { parts_->consumer.stop(); }

}  // namespace kurz::stats::redis
