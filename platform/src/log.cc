#include "kurz/platform/log.h"

#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <cmath>
#include <mutex>

#include "kurz/platform/http.h"

namespace kurz::platform::log {
namespace {

// Small on purpose: each slot holds a preallocated message buffer, and the queue is resident.
constexpr std::size_t kQueueSize = 2048;

std::mutex g_mutex;
std::shared_ptr<spdlog::details::thread_pool> g_pool;
std::shared_ptr<spdlog::logger> g_logger;
std::string g_prefix;  // "service":"...","instance":"...",

spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::Trace:
      return spdlog::level::trace;
    case LogLevel::Debug:
      return spdlog::level::debug;
    case LogLevel::Info:
      return spdlog::level::info;
    case LogLevel::Warn:
      return spdlog::level::warn;
    case LogLevel::Error:
      return spdlog::level::err;
    case LogLevel::Off:
      break;
  }
  return spdlog::level::off;
}

void append_value(std::string& out, const Field::Value& value) {
  if (const auto* s = std::get_if<std::string_view>(&value)) {
    out.push_back('"');
    append_json_escaped(out, *s);
    out.push_back('"');
  } else if (const auto* i = std::get_if<std::int64_t>(&value)) {
    out += std::to_string(*i);
  } else if (const auto* d = std::get_if<double>(&value)) {
    char buffer[64];
    const auto [end, ec] =
        std::isfinite(*d)
            ? std::to_chars(buffer, buffer + sizeof(buffer), *d, std::chars_format::fixed, 3)
            : std::to_chars_result{buffer, std::errc::value_too_large};
    if (ec == std::errc()) {
      out.append(buffer, end);
    } else {
      out += "null";
    }
  } else {
    out += std::get<bool>(value) ? "true" : "false";
  }
}

}  // namespace

void init(const std::string& service, const std::string& instance, LogLevel level) {
  std::lock_guard lock(g_mutex);
  if (!g_pool) g_pool = std::make_shared<spdlog::details::thread_pool>(kQueueSize, 1);
  auto sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  auto logger = std::make_shared<spdlog::async_logger>(
      "kurz", std::move(sink), g_pool, spdlog::async_overflow_policy::overrun_oldest);
  logger->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})",
                      spdlog::pattern_time_type::utc);
  logger->set_level(to_spdlog(level));
  logger->flush_on(spdlog::level::warn);
  std::string prefix = R"("service":")";
  append_json_escaped(prefix, service);
  prefix += R"(","instance":")";
  append_json_escaped(prefix, instance);
  prefix += "\",";
  g_prefix = std::move(prefix);
  std::atomic_store(&g_logger, std::shared_ptr<spdlog::logger>(std::move(logger)));
}

void shutdown() {
  std::lock_guard lock(g_mutex);
  if (g_logger) g_logger->flush();
  std::atomic_store(&g_logger, std::shared_ptr<spdlog::logger>());
  std::atomic_store(&g_pool, std::shared_ptr<spdlog::details::thread_pool>());
}

bool enabled(LogLevel level) {
  const auto logger = std::atomic_load(&g_logger);
  return logger && logger->should_log(to_spdlog(level));
}

void write(LogLevel level, std::string_view message, Fields fields) {
  const auto logger = std::atomic_load(&g_logger);
  if (!logger || !logger->should_log(to_spdlog(level))) return;
  std::string line;
  line.reserve(320);
  line = g_prefix;
  line += R"("msg":")";
  append_json_escaped(line, message);
  line.push_back('"');
  for (const auto& field : fields) {
    line += ",\"";
    append_json_escaped(line, field.key);
    line += "\":";
    append_value(line, field.value);
  }
  logger->log(to_spdlog(level), spdlog::string_view_t(line.data(), line.size()));
}

std::uint64_t dropped_lines() {
  const auto pool = std::atomic_load(&g_pool);
  return pool ? pool->overrun_counter() : 0;
}

}  // namespace kurz::platform::log
