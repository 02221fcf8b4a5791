#pragma once
// Configuration comes from the environment only, is read once at start-up into typed structs, and
// an invalid value stops the process with a message naming the variable (STYLE: "invalid is
// fatal"). Every setting has a visible default, documented in the README's table.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace kurz::platform {

// Looks up an environment variable; injectable so that tests need not touch the real environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup process_env();

// All the problems found in the configuration, one per line.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(const std::vector<std::string>& problems);
};

// Typed getters that collect every problem instead of stopping at the first; finish() throws
// ConfigError if there was any. Unset and empty variables both mean "use the default".
class EnvReader {
 public:
  explicit EnvReader(EnvLookup env) : env_(std::move(env)) {}

  std::optional<std::string> raw(const std::string& name) const;
  std::string string(const std::string& name, std::string fallback);
  std::int64_t integer(const std::string& name, std::int64_t fallback, std::int64_t min,
                       std::int64_t max);
  bool boolean(const std::string& name, bool fallback);
  std::chrono::milliseconds millis(const std::string& name, std::chrono::milliseconds fallback,
                                   std::chrono::milliseconds max);
  // A decimal number from 0 to 1 ("0.01", "1", "0"), e.g. a share of requests.
  double fraction(const std::string& name, double fallback);
  // The first of `names` that is set, as a TCP port (0 means any free port); `fallback` if none.
  std::uint16_t port(const std::vector<std::string>& names, std::uint16_t fallback);
  void problem(std::string message) { problems_.push_back(std::move(message)); }
  void finish() const;

 private:
  EnvLookup env_;
  std::vector<std::string> problems_;
};

enum class LogLevel { Trace, Debug, Info, Warn, Error, Off };
std::optional<LogLevel> parse_log_level(std::string_view text);

// What every kurz service reads. Service-specific settings live in the service's own struct,
// read with the same EnvReader.
struct ServiceConfig {
  std::string service;  // "monolith", "links", "redirect", ...
  std::string listen_address = "0.0.0.0";
  std::uint16_t port = 8080;    // <SERVICE>_PORT, then PORT0, then PORT, then 8080
  std::string redis_url;        // empty (and no sentinels): in-process memory (only the monolith)
  std::string redis_sentinels;  // REDIS_SENTINELS: find the Redis primary through Sentinel
  bool uses_redis() const { return !redis_url.empty() || !redis_sentinels.empty(); }
  LogLevel log_level = LogLevel::Info;
  bool access_log = true;
  // Access lines for requests that are neither errors nor slow: this share of them (README).
  double access_log_sample = 0.01;
  std::chrono::milliseconds access_log_slow{100};  // this long or longer: always an access line
  std::string public_base_url;  // for the short URLs; default http://localhost:<port>
  std::chrono::milliseconds shutdown_delay{1000};
  std::chrono::milliseconds drain_timeout{10000};
  std::size_t http_threads = 2;     // default: the CPUs the process may use (cpus.h)
  std::string http_threads_source;  // why that many: "HTTP_THREADS" or the CPU budget's reason
  std::size_t max_request_bytes = 65536;
  std::chrono::milliseconds request_read_timeout{10000};  // a request's head and body, each
  std::size_t max_connections = 4096;                     // open client connections at once
  std::string api_key;          // when set, listing and deleting links require it
  std::string instance_id;      // MESOS_TASK_ID, else HOSTNAME, else gethostname()
  std::string trusted_proxies;  // CIDRs whose X-Forwarded-For is believed; empty: none
};

// Reads the common settings for `service` (e.g. "monolith" reads MONOLITH_PORT first).
ServiceConfig load_service_config(const std::string& service, EnvReader& env);

}  // namespace kurz::platform
