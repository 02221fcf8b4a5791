#pragma once

#include <cstdint>
#include <functional>
#include <mutex>

#include "kurz/redirect/click_buffer.h"

namespace prometheus {
class Counter;
class Gauge;
class Registry;
}  // namespace prometheus

namespace kurz::redirect::redis {

// The click buffer's metrics: kurz_clicks_buffered (gauge), kurz_clicks_published_total and
// kurz_clicks_dropped_total (counters). Fed by the buffer's observer:
//
//   ClickBufferMetrics metrics(registry);
//   options.observer = metrics.observer();   // metrics must outlive the buffer
//
// Thread-safe.
class ClickBufferMetrics {
 public:
  explicit ClickBufferMetrics(prometheus::Registry& registry);

  void update(const ClickBuffer::Counters& counters);
  std::function<void(const ClickBuffer::Counters&)> observer() {
    return [this](const ClickBuffer::Counters& counters) { update(counters); };
  }

 private:
  std::mutex mutex_;
  prometheus::Gauge& buffered_;
  prometheus::Counter& published_;
  prometheus::Counter& dropped_;
};

}  // namespace kurz::redirect::redis
