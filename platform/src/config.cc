#include "kurz/platform/config.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

#include "kurz/platform/client_address.h"
#include "kurz/platform/cpus.h"

namespace kurz::platform {
namespace {

std::string join_lines(const std::vector<std::string>& problems) {
  std::string out = "invalid configuration:";
  for (const auto& problem : problems) out += "\n  - " + problem;
  return out;
}

std::string upper(std::string text) {
  for (auto& c : text) {
    c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return text;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string host_name() {
  char buffer[256] = {};
  if (gethostname(buffer, sizeof(buffer) - 1) != 0) return "unknown";
  return buffer;
}

bool valid_base_url(const std::string& url) {
  const auto lowered = lower(url);
  const auto scheme_end = lowered.find("://");
  if (scheme_end == std::string::npos) return false;
  const auto scheme = lowered.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return false;
  const auto host = lowered.substr(scheme_end + 3);
  if (host.empty() || host.front() == '/') return false;
  return std::none_of(url.begin(), url.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7F || c == '?' || c == '#';
  });
}

}  // namespace

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

ConfigError::ConfigError(const std::vector<std::string>& problems)
    : std::runtime_error(join_lines(problems)) {}

std::optional<std::string> EnvReader::raw(const std::string& name) const {
  auto value = env_(name);
  if (!value || value->empty()) return std::nullopt;
  return value;
}

std::string EnvReader::string(const std::string& name, std::string fallback) {
  auto value = raw(name);
  return value ? *value : std::move(fallback);
}

std::int64_t EnvReader::integer(const std::string& name, std::int64_t fallback, std::int64_t min,
                                std::int64_t max) {
  const auto value = raw(name);
  if (!value) return fallback;
  std::int64_t parsed = 0;
  const auto* end = value->data() + value->size();
  const auto [ptr, ec] = std::from_chars(value->data(), end, parsed);
  if (ec != std::errc() || ptr != end || parsed < min || parsed > max) {
    problem(name + "=\"" + *value + "\": expected a whole number from " + std::to_string(min) +
            " to " + std::to_string(max));
    return fallback;
  }
  return parsed;
}

bool EnvReader::boolean(const std::string& name, bool fallback) {
  const auto value = raw(name);
  if (!value) return fallback;
  const auto text = lower(*value);
  if (text == "1" || text == "true" || text == "yes" || text == "on") return true;
  if (text == "0" || text == "false" || text == "no" || text == "off") return false;
  problem(name + "=\"" + *value + "\": expected true or false");
  return fallback;
}

std::chrono::milliseconds EnvReader::millis(const std::string& name,
                                            std::chrono::milliseconds fallback,
                                            std::chrono::milliseconds max) {
  return std::chrono::milliseconds(integer(name, fallback.count(), 0, max.count()));
}

double EnvReader::fraction(const std::string& name, double fallback) {
  const auto value = raw(name);
  if (!value) return fallback;
  double parsed = 0;
  const auto* end = value->data() + value->size();
  const auto [ptr, ec] = std::from_chars(value->data(), end, parsed);
  // The negation also refuses NaN; "inf" is above 1.
  if (ec != std::errc() || ptr != end || !(parsed >= 0.0 && parsed <= 1.0)) {
    problem(name + "=\"" + *value + "\": expected a number from 0 to 1, e.g. 0.01");
    return fallback;
  }
  return parsed;
}

std::uint16_t EnvReader::port(const std::vector<std::string>& names, std::uint16_t fallback) {
  for (const auto& name : names) {
    if (raw(name)) return static_cast<std::uint16_t>(integer(name, fallback, 0, 65535));
  }
  return fallback;
}

void EnvReader::finish() const {
  if (!problems_.empty()) throw ConfigError(problems_);
}

std::optional<LogLevel> parse_log_level(std::string_view text) {
  const auto level = lower(text);
  if (level == "trace") return LogLevel::Trace;
  if (level == "debug") return LogLevel::Debug;
  if (level == "info") return LogLevel::Info;
  if (level == "warn" || level == "warning") return LogLevel::Warn;
  if (level == "error") return LogLevel::Error;
  if (level == "off") return LogLevel::Off;
  return std::nullopt;
}

ServiceConfig load_service_config(const std::string& service, EnvReader& env) {
  ServiceConfig config;
  config.service = service;
  config.listen_address = env.string("LISTEN_ADDRESS", config.listen_address);
  config.port = env.port({upper(service) + "_PORT", "PORT0", "PORT"}, 8080);
  config.redis_url = env.string("REDIS_URL", "");
  config.redis_sentinels = env.string("REDIS_SENTINELS", "");
  if (const auto level = env.raw("LOG_LEVEL")) {
    if (const auto parsed = parse_log_level(*level)) {
      config.log_level = *parsed;
    } else {
      env.problem("LOG_LEVEL=\"" + *level + "\": expected trace, debug, info, warn, error or off");
    }
  }
  config.access_log = env.boolean("ACCESS_LOG", config.access_log);
  config.access_log_sample = env.fraction("ACCESS_LOG_SAMPLE", config.access_log_sample);
  config.access_log_slow =
      env.millis("ACCESS_LOG_SLOW_MS", config.access_log_slow, std::chrono::minutes(10));
  config.public_base_url =
      env.string("PUBLIC_BASE_URL", "http://localhost:" + std::to_string(config.port));
  while (!config.public_base_url.empty() && config.public_base_url.back() == '/') {
    config.public_base_url.pop_back();
  }
  if (!valid_base_url(config.public_base_url)) {
    env.problem("PUBLIC_BASE_URL=\"" + config.public_base_url +
                "\": expected an absolute http(s) URL such as https://kurz.example");
  }
  config.shutdown_delay =
      env.millis("SHUTDOWN_DELAY_MS", config.shutdown_delay, std::chrono::minutes(5));
  config.drain_timeout =
      env.millis("DRAIN_TIMEOUT_MS", config.drain_timeout, std::chrono::minutes(5));
  // One reactor per CPU the process may use (affinity, cgroup quota, Marathon's cpus), not per
  // core of the machine: a 0.25-CPU replica on a big host runs one. MARATHON_APP_RESOURCE_CPUS is
  // Marathon's, not a setting: a value that is not a positive number is ignored.
  const auto marathon_cpus = env.raw("MARATHON_APP_RESOURCE_CPUS");
  const auto budget =
      cpu_budget(marathon_cpus ? parse_allocated_cpus(*marathon_cpus) : std::nullopt);
  config.http_threads = static_cast<std::size_t>(env.integer(
      "HTTP_THREADS", static_cast<std::int64_t>(std::min<std::size_t>(budget.cpus, 256)), 1, 256));
  config.http_threads_source = env.raw("HTTP_THREADS") ? "HTTP_THREADS" : budget.source;
  config.max_request_bytes = static_cast<std::size_t>(
      env.integer("MAX_REQUEST_BYTES", static_cast<std::int64_t>(config.max_request_bytes), 1024,
                  16 * 1024 * 1024));
  config.request_read_timeout =
      env.millis("REQUEST_READ_TIMEOUT_MS", config.request_read_timeout, std::chrono::minutes(10));
  config.max_connections = static_cast<std::size_t>(env.integer(
      "MAX_CONNECTIONS", static_cast<std::int64_t>(config.max_connections), 16, 1000000));
  config.api_key = env.string("API_KEY", "");
  config.trusted_proxies = env.string("TRUSTED_PROXIES", "");
  if (!TrustedProxies::parse(config.trusted_proxies)) {
    env.problem("TRUSTED_PROXIES=\"" + config.trusted_proxies +
                "\": expected addresses or CIDR ranges separated by commas, e.g. 10.0.0.0/8,::1");
  }
  config.instance_id =
      env.string("INSTANCE_ID", env.string("MESOS_TASK_ID", env.string("HOSTNAME", host_name())));
  return config;
}

}  // namespace kurz::platform
