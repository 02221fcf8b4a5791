#include "kurz/platform/metrics.h"

#include <prometheus/text_serializer.h>

#include <functional>
#include <mutex>
#include <shared_mutex>
#include <sstream>
#include <unordered_map>

#include "kurz/platform/log.h"
#include "process_collector.h"

namespace kurz::platform {
namespace {

// The hot path looks series up by the label's address (route templates live as long as the
// server) without allocating; the label text stored in the Series guards against a reused address.
struct Key {
  const char* data;
  std::size_t size;
  Method method;
  int status;
  bool operator==(const Key& other) const {
    return data == other.data && size == other.size && method == other.method &&
           status == other.status;
  }
};

struct KeyHash {
  std::size_t operator()(const Key& key) const {
    return std::hash<const void*>()(key.data) ^ (key.size << 20) ^
           (static_cast<std::size_t>(key.status) << 8 | static_cast<std::size_t>(key.method));
  }
};

struct Series {
  prometheus::Counter* requests = nullptr;
  prometheus::Histogram* duration = nullptr;
  std::string label;
};

const prometheus::Histogram::BucketBoundaries& latency_buckets() {
  static const prometheus::Histogram::BucketBoundaries buckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
  return buckets;
}

}  // namespace

struct Metrics::Impl {
  prometheus::Family<prometheus::Counter>* requests = nullptr;
  prometheus::Family<prometheus::Histogram>* duration = nullptr;
  prometheus::Family<prometheus::Counter>* log_dropped = nullptr;
  ProcessCollector process;
  mutable std::shared_mutex mutex;
  std::unordered_map<Key, Series, KeyHash> series;
  std::mutex hooks_mutex;
  std::vector<std::function<void()>> hooks;
};

Metrics::Metrics(const std::string& service, const std::string& version, const std::string& stage)
    : registry_(std::make_shared<prometheus::Registry>()), impl_(std::make_unique<Impl>()) {
  impl_->requests = &prometheus::BuildCounter()
                         .Name("http_requests_total")
                         .Help("HTTP requests answered, by method, route template and status.")
                         .Register(*registry_);
  impl_->duration = &prometheus::BuildHistogram()
                         .Name("http_request_duration_seconds")
                         .Help("Time from request parsed to its answer ready to send.")
                         .Register(*registry_);
  impl_->log_dropped = &prometheus::BuildCounter()
                            .Name("kurz_log_lines_dropped_total")
                            .Help("Log lines dropped because the asynchronous queue was full.")
                            .Register(*registry_);
  prometheus::BuildGauge()
      .Name("kurz_build_info")
      .Help("Build and deployment information; always 1.")
      .Register(*registry_)
      .Add({{"service", service}, {"version", version}, {"stage", stage}})
      .Set(1);
}

Metrics::~Metrics() = default;

void Metrics::observe_http(Method method, std::string_view route, int status, double seconds) {
  const Key key{route.data(), route.size(), method, status};
  prometheus::Counter* requests = nullptr;
  prometheus::Histogram* duration = nullptr;
  {
    std::shared_lock lock(impl_->mutex);
    const auto it = impl_->series.find(key);
    if (it != impl_->series.end() && it->second.label == route) {
      requests = it->second.requests;
      duration = it->second.duration;
    }
  }
  if (requests == nullptr) {
    const prometheus::Labels labels{{"method", std::string(to_string(method))},
                                    {"route", std::string(route)},
                                    {"status", std::to_string(status)}};
    std::unique_lock lock(impl_->mutex);
    requests = &impl_->requests->Add(labels);
    duration = &impl_->duration->Add(labels, latency_buckets());
    impl_->series.insert_or_assign(key, Series{requests, duration, std::string(route)});
  }
  requests->Increment();
  duration->Observe(seconds);
}

void advance_to(prometheus::Counter& counter, std::uint64_t total) {
  const auto value = static_cast<double>(total);
  if (value > counter.Value()) counter.Increment(value - counter.Value());
}

void Metrics::on_scrape(std::function<void()> hook) {
  std::lock_guard lock(impl_->hooks_mutex);
  impl_->hooks.push_back(std::move(hook));
}

std::string Metrics::render() const {
  {
    std::lock_guard lock(impl_->hooks_mutex);
    // The dropped-lines counter mirrors spdlog's own count.
    advance_to(impl_->log_dropped->Add({}), log::dropped_lines());
    for (const auto& hook : impl_->hooks) hook();
  }
  auto families = registry_->Collect();
  auto process = impl_->process.Collect();
  families.insert(families.end(), std::make_move_iterator(process.begin()),
                  std::make_move_iterator(process.end()));
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace kurz::platform
