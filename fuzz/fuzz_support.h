#pragma once
// What the fuzz targets share: a failed property is a crash (libFuzzer keeps the input), and the
// monolith over its in-memory backend, built once per process, for the request-level targets.

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "kurz/common/clock.h"
#include "kurz/monolith/monolith.h"
#include "kurz/platform/http.h"
#include "kurz/platform/metrics.h"
#include "kurz/platform/router.h"

namespace kurz::fuzz {

// A property every input must keep; when it does not, the input is a finding.
inline void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "property violated: %s\n", what);
    std::abort();
  }
}

inline bool header_safe(std::string_view text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

class MapHeaders final : public platform::HeaderSource {
 public:
  std::map<std::string, std::string> values;  // lower-case names
  std::optional<std::string> get(std::string_view name) const override {
    std::string key(name);
    for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto it = values.find(key);
    if (it == values.end()) return std::nullopt;
    return it->second;
  }
};

// The whole application's routes (API, redirects, stats, QR, UI) over process memory.
struct App {
  common::ManualClock clock{common::TimePoint{} + std::chrono::seconds(1795476426)};
  platform::Metrics metrics{"fuzz", "0", "1"};
  monolith::MemoryBackend backend{links::RateLimit{0, std::chrono::milliseconds(60000)}, clock};
  monolith::Monolith app{monolith::Settings{"http://kurz.test", "fuzz-key",
                                            links::RateLimit{0, std::chrono::milliseconds(60000)}},
                         clock, metrics, backend.backend()};
  platform::Router router;
  App() { app.add_routes(router); }

  static App& instance() {
    static App* app = new App();  // never destroyed: the fuzzer exits without unwinding
    return *app;
  }

  // What the server does with a parsed request (Server::State::dispatch): 404, 405, or the
  // handler's reply; a handler's exception is a finding here (the server would answer 500).
  platform::Reply dispatch(platform::Request& request) const {
    auto match = router.match(request.method(), request.path());
    if (match.kind == platform::Router::Match::Kind::NotFound)
      return platform::Reply::error(404, "not_found", "");
    if (match.kind == platform::Router::Match::Kind::MethodNotAllowed) {
      return platform::Reply::error(405, "method_not_allowed", "");
    }
    request.set_params(std::move(match.params));
    return match.route->handler(request);
  }
};

// Properties of every reply: a real status, headers that cannot split the response, and a
// Location that is the link's own API path or a valid absolute http(s) URL.
void check_reply(const platform::Reply& reply);

}  // namespace kurz::fuzz
