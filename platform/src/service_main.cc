#include "kurz/platform/service_main.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <optional>

#include "kurz/platform/log.h"
#include "kurz/platform/server.h"

namespace kurz::platform {
namespace {

sigset_t termination_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

const char* signal_name(int signal) { return signal == SIGTERM ? "SIGTERM" : "SIGINT"; }

// MAX_CONNECTIONS takes two descriptors a connection (platform/src/connections.h). A shell's soft
// limit is often 1024 while the hard one is far higher (Docker gives 1048576 for both): raise the
// soft limit to what the bound needs, within the hard one, as nginx's worker_rlimit_nofile does,
// and say so when even the hard limit is short (connections beyond it are then refused).
void fit_descriptor_limit(std::size_t max_connections) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  const rlim_t needed = 2 * static_cast<rlim_t>(max_connections) + 1024;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < needed) {
    const rlim_t before = limit.rlim_cur;
    limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? needed : std::min(needed, limit.rlim_max);
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) limit.rlim_cur = before;
  }
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < needed) {
    log::warn("the open-files limit is below what MAX_CONNECTIONS needs: fewer connections fit",
              {{"max_connections", static_cast<std::int64_t>(max_connections)},
               {"needed", static_cast<std::int64_t>(needed)},
               {"limit", static_cast<std::int64_t>(limit.rlim_cur)}});
  }
}

// A free port, held until the server listens on it. Pistache 0.0.5 binds and listens in one call
// (Endpoint::serveThreaded → Tcp::Listener::bind) and takes no ready descriptor, while the services
// need the port before the server exists (the default PUBLIC_BASE_URL names it). So the port is
// reserved: a socket with SO_REUSEPORT is bound to port 0 and stays bound (never listening, so it
// receives no connection) until the server, also with SO_REUSEPORT, listens on the same port;
// then it is closed. Meanwhile the kernel gives the port to nobody else, and no other socket can
// bind it unless it belongs to the same user and sets SO_REUSEPORT too. Picking a port and closing
// it before the server bound it again (the former way) let another process take it in between.
class PortReservation {
 public:
  static constexpr int kHighDescriptor = 512;

  explicit PortReservation(const std::string& address) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    // Kept out of the low descriptors: Pistache 0.0.5 gives a connection the transport thread
    // of its descriptor number, so a hole left there by release() would change which thread the
    // first connections get.
    const int high = ::fcntl(fd_, F_DUPFD_CLOEXEC, kHighDescriptor);
    if (high >= 0) {
      ::close(fd_);
      fd_ = high;
    }
    const int on = 1;
    sockaddr_in bound{};
    bound.sin_family = AF_INET;
    if (inet_pton(AF_INET, address.c_str(), &bound.sin_addr) != 1) {
      bound.sin_addr.s_addr = INADDR_ANY;
    }
    socklen_t length = sizeof(bound);
    if (::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == 0 &&
        ::setsockopt(fd_, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) == 0 &&
        ::bind(fd_, reinterpret_cast<sockaddr*>(&bound), sizeof(bound)) == 0 &&
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&bound), &length) == 0) {
      port_ = ntohs(bound.sin_port);
    } else {
      release();
    }
  }
  ~PortReservation() { release(); }
  PortReservation(const PortReservation&) = delete;
  PortReservation& operator=(const PortReservation&) = delete;

  // The reserved port; 0 if none could be reserved (the server then listens on port 0 itself).
  std::uint16_t port() const { return port_; }
  void release() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace

std::string stage_of(const ServiceConfig& config) {
  if (config.service != "monolith") return "3";
  return config.uses_redis() ? "2" : "1";
}

int run_service(const std::string& service, const Compose& compose) {
  const auto started = std::chrono::steady_clock::now();
  const sigset_t signals = termination_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // A closed stdout (a log collector gone) must not kill the process with SIGPIPE.
  signal(SIGPIPE, SIG_IGN);

  EnvReader env(process_env());
  ServiceConfig config;
  try {
    config = load_service_config(service, env);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kurz-%s: %s\n", service.c_str(), e.what());
    return 2;
  }
  std::optional<PortReservation> reserved;
  if (config.port == 0) {
    // "Any free port": reserve it now, so that the default short URLs name the real port.
    reserved.emplace(config.listen_address);
    config.port = reserved->port();
    if (!env.raw("PUBLIC_BASE_URL")) {
      config.public_base_url = "http://localhost:" + std::to_string(config.port);
    }
  }
  log::init(service, config.instance_id, config.log_level);
  fit_descriptor_limit(config.max_connections);
  Metrics metrics(service, kurz_version(), stage_of(config));
  health::Registry health;
  ServiceContext context{config, env, metrics, health, {}, {}};
  Router router;
  int code = 0;
  try {
    compose(context, router);
    env.finish();
    ServerOptions server_options = ServerOptions::from(config, stage_of(config));
    server_options.reuse_port = reserved && reserved->port() != 0;
    Server server(std::move(server_options), std::move(router), metrics, health);
    server.start();
    if (reserved) reserved->release();  // the server holds the port now
    const auto ready_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count();
    log::info("ready", {{"port", static_cast<std::int64_t>(server.port())},
                        {"stage", stage_of(config)},
                        {"version", kurz_version()},
                        {"http_threads", static_cast<std::int64_t>(config.http_threads)},
                        {"http_threads_source", config.http_threads_source},
                        {"startup_ms", ready_ms}});
    int received = 0;
    sigwait(&signals, &received);
    log::info("shutting down",
              {{"signal", signal_name(received)},
               {"delay_ms", static_cast<std::int64_t>(config.shutdown_delay.count())},
               {"in_flight", static_cast<std::int64_t>(server.in_flight())}});
    const bool drained = server.shutdown();
    for (auto hook = context.shutdown_hooks.rbegin(); hook != context.shutdown_hooks.rend();
         ++hook) {
      (*hook)();
    }
    log::info("stopped", {{"drained", drained}});
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "kurz-%s: %s\n", service.c_str(), e.what());
    code = 2;
  } catch (const std::exception& e) {
    log::error("fatal", {{"error", e.what()}});
    std::fprintf(stderr, "kurz-%s: %s\n", service.c_str(), e.what());
    code = 1;
  }
  log::shutdown();
  return code;
}

}  // namespace kurz::platform
