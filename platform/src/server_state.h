#pragma once
// What the server's handler clones share: the routes, metrics, health and the drain state.
// The Pistache glue (pistache_handler.cc) and the lifecycle (server.cc) share it.

#include <pistache/endpoint.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include <atomic>
#include <memory>
#include <string>

#include "access_log.h"
#include "kurz/platform/client_address.h"
#include "kurz/platform/server.h"

namespace kurz::platform {

class Connections;

struct Server::State {
  State(ServerOptions opts, Router r, Metrics& m, health::Registry& h);

  ServerOptions options;
  TrustedProxies proxies;
  Router router;
  Metrics& metrics;
  health::Registry& health;
  std::string info_json;
  AccessLogSampler access_sampler;  // from options: which requests get an access line

  struct Lifecycle {
    std::atomic<bool> started{false};
    std::atomic<bool> draining{false};  // readiness 503
  };
  // Shared with the readiness check, which may outlive the server in the health registry.
  std::shared_ptr<Lifecycle> lifecycle = std::make_shared<Lifecycle>();
  std::atomic<bool> closing{false};  // every response carries Connection: close
  std::atomic<std::size_t> in_flight{0};
  std::shared_ptr<Connections> connections;           // open client connections: MAX_CONNECTIONS
  std::atomic<long long> connection_limit_logged{0};  // second of the last "limit reached" line
  prometheus::Gauge* connections_open = nullptr;
  prometheus::Counter* connections_refused = nullptr;
  prometheus::Counter* connections_evicted = nullptr;
  std::unique_ptr<Pistache::Http::Endpoint> endpoint;
  std::uint16_t port = 0;
  bool stopped = false;

  // Routes the request and runs its handler; never throws. `route` receives the metrics label:
  // the matched template, or kUnmatched (both outlive the server).
  Reply dispatch(Request& request, const std::string*& route) const;
  // Metrics and the access log for one answered request.
  void record(const Request& request, const std::string& route, const Reply& reply,
              double seconds) const;

  static const std::string kUnmatched;
};

// A request id: the incoming X-Request-Id when it is short and plain, else a fresh random one.
std::string request_id_for(const std::optional<std::string>& incoming);

}  // namespace kurz::platform
