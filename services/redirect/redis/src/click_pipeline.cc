#include "kurz/redirect/redis/click_pipeline.h"

#include "kurz/redirect/redis/click_metrics.h"
#include "kurz/redirect/redis/click_publisher.h"

namespace kurz::redirect::redis {

ClickBuffer::Options read_click_buffer_options(platform::EnvReader& env) {
  ClickBuffer::Options options;
  options.capacity =
      static_cast<std::size_t>(env.integer("CLICK_BUFFER_SIZE", 100000, 1, 100'000'000));
  options.batch_size = static_cast<std::size_t>(env.integer("CLICK_BATCH_SIZE", 512, 1, 100000));
  options.interval = env.millis("CLICK_FLUSH_MS", options.interval, std::chrono::seconds(10));
  return options;
}

struct ClickPipeline::Parts {
  Parts(kurz::redis::Client& client, const std::string& instance, platform::Metrics& metrics,
        ClickBuffer::Options options)
      : publisher(client, instance),
        buffer_metrics(metrics.registry()),
        buffer(publisher, with_observer(std::move(options), buffer_metrics)) {}

  static ClickBuffer::Options with_observer(ClickBuffer::Options options,
                                            ClickBufferMetrics& metrics) {
    options.observer = metrics.observer();
    return options;
  }

  RedisClickPublisher publisher;
  ClickBufferMetrics buffer_metrics;
  ClickBuffer buffer;  // last: stopped and destroyed before what it publishes to
};

ClickPipeline::ClickPipeline(kurz::redis::Client& client, const std::string& instance,
                             platform::Metrics& metrics, ClickBuffer::Options options)
    : parts_(std::make_unique<Parts>(client, instance, metrics, std::move(options))) {}

ClickPipeline::~ClickPipeline() = default;

common::ClickSink& ClickPipeline::sink() { return parts_->buffer; }

void ClickPipeline::stop(std::chrono::milliseconds timeout) { parts_->buffer.stop(timeout); }

}  // namespace kurz::redirect::redis
