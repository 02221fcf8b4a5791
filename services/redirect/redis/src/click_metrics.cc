#include "kurz/redirect/redis/click_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "kurz/platform/metrics.h"

namespace kurz::redirect::redis {

ClickBufferMetrics::ClickBufferMetrics(prometheus::Registry& registry)
    : buffered_(prometheus::BuildGauge()
                    .Name("kurz_clicks_buffered")
                    .Help("Click events buffered in this instance, not yet in the stream.")
                    .Register(registry)
                    .Add({})),
      published_(prometheus::BuildCounter()
                     .Name("kurz_clicks_published_total")
                     .Help("Click events appended to the click stream.")
                     .Register(registry)
                     .Add({})),
      dropped_(prometheus::BuildCounter()
                   .Name("kurz_clicks_dropped_total")
                   .Help("Click events refused because the buffer was full (or stopped).")
                   .Register(registry)
                   .Add({})) {}

void ClickBufferMetrics::update(const ClickBuffer::Counters& counters) {
  std::lock_guard lock(mutex_);
  buffered_.Set(static_cast<double>(counters.pending));
  platform::advance_to(published_, counters.published);
  platform::advance_to(dropped_, counters.dropped);
}

}  // namespace kurz::redirect::redis
