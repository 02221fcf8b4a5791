#pragma once
// A registry of named health checks, and the JSON that /health/live and /health/ready answer.
//
// Liveness says "this process can serve": an orchestrator restarts a task whose liveness fails,
// so liveness checks must never depend on another service (a Redis blip must not restart the
// fleet). Readiness says "send me traffic": it runs the liveness checks and the readiness ones
// (dependencies reachable, start-up complete, not shutting down).

#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace kurz::health {

enum class Probe { Liveness, Readiness };

struct CheckResult {
  bool ok = true;
  std::string detail;  // shown to operators: "connected", "redis: connection refused", ...
};

using Check = std::function<CheckResult()>;

struct Report {
  bool ok = true;
  std::vector<std::pair<std::string, CheckResult>> checks;
};

class Registry {
 public:
  // Adds a check. Thread-safe; checks are usually added at start-up. A check must be fast and
  // must not throw: it runs on the request path of every probe (throwing counts as failing).
  void add(std::string name, Probe probe, Check check);

  // Runs the checks for `probe` (readiness also runs the liveness checks). Thread-safe.
  Report evaluate(Probe probe) const;

 private:
  struct Entry {
    std::string name;
    Probe probe;
    Check check;
  };
  mutable std::mutex mutex_;
  std::vector<Entry> entries_;
};

// {"status":"ok"|"fail","checks":{"name":{"status":"ok"|"fail","detail":"..."}}}
std::string to_json(const Report& report);

}  // namespace kurz::health
