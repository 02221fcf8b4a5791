#pragma once
// The HTTP server every kurz service runs. It owns what every service gets for free:
//   - /health/live, /health/ready, /metrics and /info next to the service's own routes;
//   - one wrapper around every handler that matches the route (404 / 405 with Allow), enforces
//     the request size limit (413), catches everything a handler throws (500, message not leaked),
//     sends the Reply with X-Instance-Id and X-Request-Id, records metrics by route template and
//     writes one access-log line;
//   - HTTP/1.1 keep-alive unless the client asks to close (Pistache 0.0.5 closes every
//     connection whose request lacks "Connection: keep-alive", upstream issue #940);
//   - a graceful shutdown that really drains (Pistache's Endpoint::shutdown drops in-flight
//     responses, upstream #1018): readiness 503 at once, keep serving for shutdown_delay, stop
//     accepting, wait for in-flight requests (bounded by drain_timeout), then stop.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "kurz/health/registry.h"
#include "kurz/platform/config.h"
#include "kurz/platform/metrics.h"
#include "kurz/platform/router.h"

namespace kurz::platform {

struct ServerOptions {
  std::string service;
  std::string version;
  std::string stage;
  std::string instance_id;
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;  // 0: any free port, see Server::port()
  // Listen with SO_REUSEPORT: only for a port that this process already holds with a bound,
  // non-listening SO_REUSEPORT socket (run_service's reservation of a free port), never to share
  // a port with another process.
  bool reuse_port = false;
  std::size_t threads = 1;
  std::string threads_source;             // why that many reactors, shown in /info
  std::size_t max_request_bytes = 65536;  // request line, headers and body together
  // A client gets this long to send a request's head, and again its body: then 408 and closed.
  std::chrono::milliseconds request_read_timeout{10000};
  // Open connections at once; one more is closed at accept (logged, counted in
  // kurz_http_connections_refused_total). kurz_http_connections_open shows how many are open.
  std::size_t max_connections = 4096;
  std::chrono::milliseconds shutdown_delay{0};
  std::chrono::milliseconds drain_timeout{10000};
  bool access_log = true;
  // Errors and requests this slow always get an access line, the rest this share (access_log.h).
  double access_log_sample = 0.01;
  std::chrono::milliseconds access_log_slow{100};
  std::string trusted_proxies;  // see client_address.h; parsed at start()

  static ServerOptions from(const ServiceConfig& config, std::string stage);
};

class Server {
 public:
  Server(ServerOptions options, Router router, Metrics& metrics, health::Registry& health);
  ~Server();  // shuts down (without the delay) if still running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and serves on background threads. Throws std::runtime_error if it cannot bind.
  void start();
  std::uint16_t port() const;

  // Readiness turns 503 from now on. Idempotent.
  void begin_shutdown();
  // The whole graceful sequence (begin_shutdown, delay, stop accepting, drain, stop). Returns
  // true if every in-flight request finished within drain_timeout.
  bool shutdown();

  std::size_t in_flight() const;

  struct State;  // shared with the HTTP library's handler clones

 private:
  std::shared_ptr<State> state_;
};

const std::string& kurz_version();

}  // namespace kurz::platform
