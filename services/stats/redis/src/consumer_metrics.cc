#include "kurz/stats/redis/consumer_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "kurz/platform/metrics.h"

namespace kurz::stats::redis {

ClickConsumerMetrics::ClickConsumerMetrics(prometheus::Registry& registry)
    : lag_(prometheus::BuildGauge()
               .Name("kurz_click_stream_lag")
               .Help("Click events in the stream that the stats group has not counted yet.")
               .Register(registry)
               .Add({})),
      applied_(prometheus::BuildCounter()
                   .Name("kurz_clicks_applied_total")
                   .Help("Click events counted into the stats by this instance.")
                   .Register(registry)
                   .Add({})) {}

void ClickConsumerMetrics::update(const ConsumerCounters& counters) {
  std::lock_guard lock(mutex_);
  if (counters.lag >= 0) lag_.Set(static_cast<double>(counters.lag));
  platform::advance_to(applied_, counters.applied);
}

}  // namespace kurz::stats::redis
