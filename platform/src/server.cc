// The server's options and lifecycle: start, the graceful shutdown. What happens on a connection
// is the Pistache glue's (pistache_handler.cc); the answer's bytes are wire.cc's.
#include "kurz/platform/server.h"

#include <pistache/endpoint.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string_view>
#include <thread>

#include "connections.h"
#include "listener.h"
#include "pistache_handler.h"
#include "server_state.h"

namespace kurz::platform {

namespace Http = Pistache::Http;
using Clock = std::chrono::steady_clock;

ServerOptions ServerOptions::from(const ServiceConfig& config, std::string stage) {
  ServerOptions options;
  options.service = config.service;
  options.version = kurz_version();
  options.stage = std::move(stage);
  options.instance_id = config.instance_id;
  options.address = config.listen_address;
  options.port = config.port;
  options.threads = config.http_threads;
  options.threads_source = config.http_threads_source;
  options.max_request_bytes = config.max_request_bytes;
  options.request_read_timeout = config.request_read_timeout;
  options.max_connections = config.max_connections;
  options.shutdown_delay = config.shutdown_delay;
  options.drain_timeout = config.drain_timeout;
  options.access_log = config.access_log;
  options.access_log_sample = config.access_log_sample;
  options.access_log_slow = config.access_log_slow;
  options.trusted_proxies = config.trusted_proxies;
  return options;
}

// The image's version: KURZ_VERSION from the environment, which the images set from their tag at
// build time (scripts/docker/build-images.sh passes it as a build argument), else the version
// compiled in from CMakeLists.txt. A value that is not a plain version string is ignored.
const std::string& kurz_version() {
  static const std::string version = [] {
    const char* from_image = std::getenv("KURZ_VERSION");
    if (from_image == nullptr) return std::string(KURZ_VERSION);
    const std::string_view text(from_image);
    const bool plain = !text.empty() && text.size() <= 64 &&
                       text.find_first_not_of(
                           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                           "0123456789._+-") == std::string_view::npos;
    return plain ? std::string(text) : std::string(KURZ_VERSION);
  }();
  return version;
}

Server::Server(ServerOptions options, Router router, Metrics& metrics, health::Registry& health)
    : state_(std::make_shared<State>(std::move(options), std::move(router), metrics, health)) {
  state_->connections =
      std::make_shared<Connections>(state_->options.max_connections, state_->connections_open);
}

Server::~Server() {
  if (state_->endpoint && !state_->stopped) {
    state_->options.shutdown_delay = std::chrono::milliseconds(0);
    shutdown();
  }
  // The endpoint's handlers hold the state: release them to break the cycle.
  state_->endpoint.reset();
}

void Server::start() {
  auto& options = state_->options;
  const auto proxies = TrustedProxies::parse(options.trusted_proxies);
  if (!proxies)
    throw std::runtime_error("malformed trusted proxy list: " + options.trusted_proxies);
  state_->proxies = *proxies;
  const Pistache::Address address(options.address, Pistache::Port(options.port));
  state_->endpoint = std::make_unique<Http::Endpoint>(address);
  // Pistache's own limit sits above ours so that our guard answers first, in our error shape.
  auto endpoint_options = Http::Endpoint::options()
                              .threads(static_cast<int>(options.threads))
                              .flags(options.reuse_port ? Pistache::Tcp::Options::ReuseAddr |
                                                              Pistache::Tcp::Options::ReusePort
                                                        : Pistache::Tcp::Options::ReuseAddr)
                              .maxRequestSize(options.max_request_bytes + 4096)
                              .maxResponseSize(64 * 1024 * 1024)
                              .headerTimeout(options.request_read_timeout)
                              .bodyTimeout(options.request_read_timeout)
                              .backlog(1024);
  state_->endpoint->init(endpoint_options);
  state_->endpoint->setHandler(make_handler(state_));
  try {
    state_->endpoint->serveThreaded();
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot listen on " + options.address + ":" +
                             std::to_string(options.port) + ": " + e.what());
  }
  state_->port = static_cast<std::uint16_t>(state_->endpoint->getPort());
  state_->lifecycle->started = true;
}

std::uint16_t Server::port() const { return state_->port; }

std::size_t Server::in_flight() const { return state_->in_flight.load(); }

void Server::begin_shutdown() { state_->lifecycle->draining = true; }

bool Server::shutdown() {
  if (!state_->endpoint || state_->stopped) return true;
  begin_shutdown();
  std::this_thread::sleep_for(state_->options.shutdown_delay);
  state_->closing = true;
  stop_accepting(state_->port);
  const auto deadline = Clock::now() + state_->options.drain_timeout;
  while (state_->in_flight.load() > 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const bool drained = state_->in_flight.load() == 0;
  state_->endpoint->shutdown();
  state_->stopped = true;
  return drained;
}

}  // namespace kurz::platform
