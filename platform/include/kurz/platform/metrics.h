#pragma once
// Prometheus metrics for one service: HTTP request rate, errors and duration by method, route
// template and status (never the raw path: cardinality stays bounded), process metrics read from
// /proc at scrape time, kurz_build_info, and the service's own domain metrics, which adapters
// register on registry().

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "kurz/platform/http.h"

namespace kurz::platform {

// Moves `counter` up to `total`, a count that a module keeps itself and that only grows (a
// buffer's published events, a cache's hits). Not atomic: callers serialise their calls (scrape
// hooks are serialised by Metrics::render).
void advance_to(prometheus::Counter& counter, std::uint64_t total);

class Metrics {
 public:
  Metrics(const std::string& service, const std::string& version, const std::string& stage);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  prometheus::Registry& registry() { return *registry_; }

  // Records one answered request. `route` is the matched template ("/api/links/:code"), or
  // "unmatched". Thread-safe and cheap: label lookups are cached.
  void observe_http(Method method, std::string_view route, int status, double seconds);

  // Runs `hook` before every scrape, so that a module can copy its own counters into metrics
  // (e.g. a cache's hit count) without knowing Prometheus. Thread-safe.
  void on_scrape(std::function<void()> hook);

  // The text exposition format (version 0.0.4) of everything above.
  std::string render() const;

 private:
  struct Impl;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kurz::platform
