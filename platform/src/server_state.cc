#include "server_state.h"

#include <chrono>
#include <exception>
#include <random>

#include "kurz/platform/log.h"

namespace kurz::platform {
namespace {

std::string info_body(const ServerOptions& options) {
  std::string body = R"({"service":")";
  append_json_escaped(body, options.service);
  body += R"(","version":")";
  append_json_escaped(body, options.version);
  body += R"(","stage":")";
  append_json_escaped(body, options.stage);
  body += R"(","instance":")";
  append_json_escaped(body, options.instance_id);
  body += R"(","threads":{"http":)" + std::to_string(options.threads) + R"(,"source":")";
  append_json_escaped(body, options.threads_source);
  body += "\"}}";
  return body;
}

Reply health_reply(const health::Registry& registry, health::Probe probe) {
  const auto report = registry.evaluate(probe);
  auto reply = Reply::json(report.ok ? 200 : 503, health::to_json(report));
  reply.with_header("Cache-Control", "no-store");
  return reply;
}

std::string join_methods(const std::vector<Method>& methods) {
  std::string out;
  for (const auto method : methods) {
    if (!out.empty()) out += ", ";
    out += to_string(method);
  }
  return out;
}

}  // namespace

Server::State::State(ServerOptions opts, Router r, Metrics& m, health::Registry& h)
    : options(std::move(opts)),
      router(std::move(r)),
      metrics(m),
      health(h),
      access_sampler(options.access_log, options.access_log_sample, options.access_log_slow) {
  info_json = info_body(options);
  connections_open = &prometheus::BuildGauge()
                          .Name("kurz_http_connections_open")
                          .Help("Client connections open now.")
                          .Register(metrics.registry())
                          .Add({});
  connections_refused = &prometheus::BuildCounter()
                             .Name("kurz_http_connections_refused_total")
                             .Help(
                                 "Connections closed at accept: MAX_CONNECTIONS were open and "
                                 "every one had a request being answered.")
                             .Register(metrics.registry())
                             .Add({});
  connections_evicted = &prometheus::BuildCounter()
                             .Name("kurz_http_connections_evicted_total")
                             .Help(
                                 "Connections closed to admit a new one at MAX_CONNECTIONS: the "
                                 "least recently active with no request being answered.")
                             .Register(metrics.registry())
                             .Add({});
  health.add("http", health::Probe::Liveness, [] { return health::CheckResult{true, "serving"}; });
  health.add("lifecycle", health::Probe::Readiness, [lifecycle = lifecycle] {
    if (lifecycle->draining.load()) return health::CheckResult{false, "shutting down"};
    if (!lifecycle->started.load()) return health::CheckResult{false, "starting"};
    return health::CheckResult{true, "accepting traffic"};
  });
  router.get("/health/live",
             [this](const Request&) { return health_reply(health, health::Probe::Liveness); });
  router.get("/health/ready",
             [this](const Request&) { return health_reply(health, health::Probe::Readiness); });
  router.get("/metrics", [this](const Request&) {
    auto reply = Reply::bytes(200, "text/plain; version=0.0.4; charset=utf-8", metrics.render());
    reply.with_header("Cache-Control", "no-store");
    return reply;
  });
  router.get("/info", [this](const Request&) { return Reply::json(200, info_json); });
  // The same answer under the service's name: every edge routes /info/<service> to that service
  // (and /info to redirect), so that the web UI can show the instances of each. The monolith is
  // every stage 3 service at once.
  router.get("/info/:service", [this](const Request& request) {
    const std::string& name = request.param("service");
    const bool monolith_serves =
        options.service == "monolith" &&
        (name == "links" || name == "redirect" || name == "stats" || name == "qr" || name == "web");
    if (name != options.service && !monolith_serves) {
      return Reply::error(404, "not_found", "this instance is not the " + name + " service");
    }
    return Reply::json(200, info_json);
  });
}

const std::string Server::State::kUnmatched = "unmatched";

Reply Server::State::dispatch(Request& request, const std::string*& route) const {
  auto match = router.match(request.method(), request.path());
  switch (match.kind) {
    case Router::Match::Kind::NotFound:
      route = &kUnmatched;
      return Reply::error(404, "not_found", "no such resource");
    case Router::Match::Kind::MethodNotAllowed: {
      route = &kUnmatched;
      auto reply =
          Reply::error(405, "method_not_allowed",
                       std::string(to_string(request.method())) +
                           " is not allowed here; allowed: " + join_methods(match.allowed));
      reply.with_header("Allow", join_methods(match.allowed));
      return reply;
    }
    case Router::Match::Kind::Found:
      break;
  }
  route = &match.route->path_template;
  request.set_params(std::move(match.params));
  try {
    return match.route->handler(request);
  } catch (const std::exception& e) {
    log::error("handler failed",
               {{"route", *route}, {"error", e.what()}, {"request_id", request.id()}});
  } catch (...) {
    log::error("handler failed", {{"route", *route}, {"request_id", request.id()}});
  }
  return Reply::error(500, "internal", "internal error; the request id is in X-Request-Id");
}

void Server::State::record(const Request& request, const std::string& route, const Reply& reply,
                           double seconds) const {
  metrics.observe_http(request.method(), route, reply.status, seconds);
  // Decided before anything is formatted: a request left out costs a draw and three compares.
  const auto reason = access_sampler.decide(reply.status, seconds, thread_random);
  if (reason == AccessLogSampler::Reason::None || !log::enabled(LogLevel::Info)) return;
  log::access("request", {{"method", to_string(request.method())},
                          {"path", request.path()},
                          {"route", route},
                          {"status", reply.status},
                          {"duration_ms", seconds * 1000.0},
                          {"bytes", static_cast<std::int64_t>(reply.body.size())},
                          {"client", request.client_ip()},
                          {"request_id", request.id()},
                          {"log_reason", AccessLogSampler::name(reason)}});
}

std::string request_id_for(const std::optional<std::string>& incoming) {
  if (incoming && !incoming->empty() && incoming->size() <= 64) {
    bool plain = true;
    for (const char c : *incoming) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.';
      plain = plain && ok;
    }
    if (plain) return *incoming;
  }
  thread_local std::mt19937_64 random{std::random_device{}()};
  static const char kHex[] = "0123456789abcdef";
  std::string id(16, '0');
  auto bits = random();
  for (auto& c : id) {
    c = kHex[bits & 0xF];
    bits >>= 4;
  }
  return id;
}

}  // namespace kurz::platform
