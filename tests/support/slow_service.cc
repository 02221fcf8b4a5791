// kurz-test-slow: a service built with the same run_service as every kurz binary, plus a route
// that takes as long as asked (GET /slow?ms=N), so that process tests can have a request in
// flight when SIGTERM arrives.
#include <chrono>
#include <thread>

#include "kurz/platform/service_main.h"

int main() {
  return kurz::platform::run_service("slowtest", [](auto&, auto& router) {
    router.get("/slow", [](const kurz::platform::Request& request) {
      const auto ms = std::stol(request.query("ms").value_or("1000"));
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
      return kurz::platform::Reply::text(200, "slow done after " + std::to_string(ms) + " ms");
    });
  });
}
