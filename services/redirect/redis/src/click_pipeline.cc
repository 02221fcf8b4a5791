#include "kurz/redirect/redis/click_pipeline.h"

#include "kurz/platform/log.h"
#include "kurz/redirect/redis/click_metrics.h"
#include "kurz/redirect/redis/click_publisher.h"

namespace kurz::redirect::redis {

ClickPipelineOptions read_click_pipeline_options(platform::EnvReader& env) {
  ClickPipelineOptions options;
  auto& buffer = options.buffer;
  buffer.capacity =
      static_cast<std::size_t>(env.integer("CLICK_BUFFER_SIZE", 100000, 1, 100'000'000));
  buffer.batch_size = static_cast<std::size_t>(env.integer("CLICK_BATCH_SIZE", 512, 1, 100000));
  buffer.interval = env.millis("CLICK_FLUSH_MS", buffer.interval, std::chrono::seconds(10));
  options.shutdown_flush =
      env.millis("CLICK_SHUTDOWN_FLUSH_MS", options.shutdown_flush, std::chrono::minutes(5));
  return options;
}

struct ClickPipeline::Parts {
  Parts(kurz::redis::Client& client, const std::string& instance, platform::Metrics& metrics,
        ClickPipelineOptions options)
      : publisher(client, instance),
        buffer_metrics(metrics.registry()),
        buffer(publisher, with_observer(std::move(options.buffer), buffer_metrics)),
        shutdown_flush(options.shutdown_flush) {}

  static ClickBuffer::Options with_observer(ClickBuffer::Options options,
                                            ClickBufferMetrics& metrics) {
    options.observer = metrics.observer();
    return options;
  }

  RedisClickPublisher publisher;
  ClickBufferMetrics buffer_metrics;
  ClickBuffer buffer;  // stopped and destroyed before what it publishes to
  std::chrono::milliseconds shutdown_flush;
};

ClickPipeline::ClickPipeline(kurz::redis::Client& client, const std::string& instance,
                             platform::Metrics& metrics, ClickPipelineOptions options)
    : parts_(std::make_unique<Parts>(client, instance, metrics, std::move(options))) {}

ClickPipeline::~ClickPipeline() = default;

common::ClickSink& ClickPipeline::sink() { return parts_->buffer; }

void ClickPipeline::stop() {
  auto& buffer = parts_->buffer;
  const auto before = buffer.counters();
  const auto started = std::chrono::steady_clock::now();
  buffer.stop(parts_->shutdown_flush);
  const auto after = buffer.counters();
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  const std::uint64_t dropped = after.dropped - before.dropped;
  const auto write = dropped > 0 ? platform::log::warn : platform::log::info;
  write(dropped > 0 ? "clicks dropped at shutdown: Redis did not take them in time"
                    : "clicks flushed at shutdown",
        {{"pending", before.pending},
         {"published", after.published - before.published},
         {"dropped", dropped},
         {"waited_ms", static_cast<std::int64_t>(waited.count())}});
}

}  // namespace kurz::redirect::redis
