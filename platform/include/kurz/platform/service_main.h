#pragma once
// run_service: the whole life of a kurz service process, so that each main() is a few lines.
//   1. blocks SIGTERM/SIGINT before any thread starts (they are awaited, never delivered async);
//   2. reads the configuration from the environment (invalid: message on stderr, exit 2);
//   3. starts JSON logging, metrics and the health registry;
//   4. lets `compose` build the service's modules and routes;
//   5. serves until SIGTERM or SIGINT, then drains (see server.h), runs the shutdown hooks
//      (flush buffered work), and returns 0.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kurz/health/registry.h"
#include "kurz/platform/config.h"
#include "kurz/platform/metrics.h"
#include "kurz/platform/router.h"

namespace kurz::platform {

struct ServiceContext {
  const ServiceConfig& config;
  EnvReader& env;  // for the service's own settings; problems are reported with the common ones
  Metrics& metrics;
  health::Registry& health;
  // Run after the server stopped, latest first: flush buffers, close connections.
  std::vector<std::function<void()>> shutdown_hooks;
  // What compose builds and the routes use: kept alive until after the shutdown hooks ran.
  std::vector<std::shared_ptr<void>> owned;
};

using Compose = std::function<void(ServiceContext& context, Router& router)>;

// The workshop stage a process demonstrates: "1" (monolith, memory), "2" (monolith + Redis),
// "3" (one microservice).
std::string stage_of(const ServiceConfig& config);

int run_service(const std::string& service, const Compose& compose);

}  // namespace kurz::platform
