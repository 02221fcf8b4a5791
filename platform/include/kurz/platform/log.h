#pragma once
// JSON-lines logging on stdout, asynchronous so that writing the access log never blocks the
// request path: when the queue is full the oldest line is dropped and counted
// (kurz_log_lines_dropped_total) instead of slowing requests down.
//
// Every line: {"ts":"2026-11-23T23:27:06.123Z","level":"info","service":...,"instance":...,
//              "msg":"...", <fields>}

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

#include "kurz/platform/config.h"

namespace kurz::platform::log {

struct Field {
  using Value = std::variant<std::string_view, std::int64_t, double, bool>;
  std::string_view key;
  Value value;
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, std::int64_t v) : key(k), value(v) {}
  Field(std::string_view k, int v) : key(k), value(std::int64_t{v}) {}
  Field(std::string_view k, std::uint64_t v) : key(k), value(static_cast<std::int64_t>(v)) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
};
using Fields = std::initializer_list<Field>;

// Installs the process logger. Call once, early in main; safe to call again (tests).
void init(const std::string& service, const std::string& instance, LogLevel level);
// Flushes and stops the background writer; call before exit.
void shutdown();

bool enabled(LogLevel level);
void write(LogLevel level, std::string_view message, Fields fields = {});
inline void debug(std::string_view m, Fields f = {}) { write(LogLevel::Debug, m, f); }
inline void info(std::string_view m, Fields f = {}) { write(LogLevel::Info, m, f); }
inline void warn(std::string_view m, Fields f = {}) { write(LogLevel::Warn, m, f); }
inline void error(std::string_view m, Fields f = {}) { write(LogLevel::Error, m, f); }

// Lines dropped because the queue was full, since start.
std::uint64_t dropped_lines();

}  // namespace kurz::platform::log
