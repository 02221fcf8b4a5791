#pragma once
// Stage 1: every kurz module composed into one process, state in process memory. The same
// modules, composed differently, are the stage 3 microservices: that is the workshop's lesson.

#include <memory>
#include <string>

#include "kurz/common/clock.h"
#include "kurz/platform/metrics.h"
#include "kurz/platform/router.h"

namespace kurz::monolith {

struct Settings {
  std::string public_base_url;
  std::string api_key;
};

class Monolith {
 public:
  // `clock` and `metrics` must outlive the Monolith.
  Monolith(const Settings& settings, const common::Clock& clock, platform::Metrics& metrics);
  ~Monolith();
  Monolith(const Monolith&) = delete;
  Monolith& operator=(const Monolith&) = delete;

  // Adds every public route (API, redirects, stats, QR, web UI). The Monolith must outlive the
  // router.
  void add_routes(platform::Router& router);

 private:
  struct Modules;
  Settings settings_;
  platform::Metrics& metrics_;
  std::unique_ptr<Modules> modules_;
};

}  // namespace kurz::monolith
