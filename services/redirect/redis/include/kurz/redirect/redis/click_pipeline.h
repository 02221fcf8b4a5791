#pragma once
// The redirect side of the click stream, assembled: a bounded ClickBuffer (the Redirector's
// ClickSink) publishing to Redis, with its metrics. Used by the redirect service and the stage 2
// monolith. Settings from the environment:
//   CLICK_BUFFER_SIZE  100000   events held while Redis is away; beyond, counted as dropped
//   CLICK_BATCH_SIZE   512      clicks per stream entry (aggregated; one round trip)
//   CLICK_FLUSH_MS     20       longest wait before a partial batch is sent
//   CLICK_SHUTDOWN_FLUSH_MS 5000 at shutdown, after the drain: the longest wait for the buffered
//                                clicks to reach Redis (which may be restarting too); the grace
//                                period before SIGKILL must cover delay + drain + this

#include <chrono>
#include <memory>
#include <string>

#include "kurz/platform/config.h"
#include "kurz/platform/metrics.h"
#include "kurz/redirect/click_buffer.h"
#include "kurz/redis/client.h"

namespace kurz::redirect::redis {

struct ClickPipelineOptions {
  ClickBuffer::Options buffer;
  std::chrono::milliseconds shutdown_flush{5000};
};

ClickPipelineOptions read_click_pipeline_options(platform::EnvReader& env);

class ClickPipeline {
 public:
  ClickPipeline(kurz::redis::Client& client, const std::string& instance,
                platform::Metrics& metrics, ClickPipelineOptions options);
  ~ClickPipeline();

  common::ClickSink& sink();
  // Publishes what is buffered (bounded by shutdown_flush) and stops; what could not be
  // published is counted as dropped. Logs the outcome. Call after the HTTP server has drained.
  void stop();

 private:
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

}  // namespace kurz::redirect::redis
