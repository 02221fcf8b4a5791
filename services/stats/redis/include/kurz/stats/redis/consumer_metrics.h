#pragma once

#include <cstdint>
#include <functional>
#include <mutex>

#include "kurz/stats/redis/click_consumer.h"

namespace prometheus {
class Counter;
class Gauge;
class Registry;
}  // namespace prometheus

namespace kurz::stats::redis {

// The stats worker's metrics: kurz_click_stream_lag (gauge: clicks in the streams that its group
// has not counted yet, see stream_lag()) and kurz_clicks_applied_total (counter: clicks this
// instance counted). Both count clicks, not stream entries (an entry carries a batch). Fed by the
// consumer's observer:
//
//   ClickConsumerMetrics metrics(registry);
//   options.observer = metrics.observer();   // metrics must outlive the consumer
//
// Thread-safe.
class ClickConsumerMetrics {
 public:
  explicit ClickConsumerMetrics(prometheus::Registry& registry);

  void update(const ConsumerCounters& counters);
  std::function<void(const ConsumerCounters&)> observer() {
    return [this](const ConsumerCounters& counters) { update(counters); };
  }

 private:
  std::mutex mutex_;
  prometheus::Gauge& lag_;
  prometheus::Counter& applied_;
};

}  // namespace kurz::stats::redis
