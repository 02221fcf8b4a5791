#pragma once
// Process metrics in the names every Prometheus client uses (prometheus-cpp has no process
// collector): CPU seconds, resident and virtual memory, open and max fds, threads, start time.
// Read from /proc/self on every scrape.

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace kurz::platform {

class ProcessCollector : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace kurz::platform
