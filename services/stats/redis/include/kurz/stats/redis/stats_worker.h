#pragma once
// The stats side of the click stream, assembled: a ClickConsumer (member of the "stats" group,
// named after the instance) with its metrics. Used by the stats service and the stage 2
// monolith. Settings from the environment:
//   STATS_BATCH_SIZE      512     stream entries per read (per stream)
//   STATS_APPLY_ROWS      4096    aggregated rows per apply script at most (writes per click
//                                 fall as it grows; Redis serves nothing else during a script);
//                                 new entries wait up to 50 ms for this many clicks
//   STATS_BLOCK_MS        500     how long a read waits for new entries
//   STATS_CLAIM_IDLE_MS   30000   entries pending this long are taken from their (dead) consumer

#include <memory>
#include <string>

#include "kurz/platform/config.h"
#include "kurz/platform/metrics.h"
#include "kurz/redis/client.h"
#include "kurz/stats/redis/click_consumer.h"

namespace kurz::stats::redis {

ConsumerOptions read_consumer_options(platform::EnvReader& env, const std::string& instance);

class StatsWorker {
 public:
  // Starts consuming at once.
  StatsWorker(const kurz::redis::Options& redis, platform::Metrics& metrics,
              ConsumerOptions options);
  ~StatsWorker();

  bool healthy() const;
  void stop();

 private:
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

}  // namespace kurz::stats::redis
