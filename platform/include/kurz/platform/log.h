#pragma once
// JSON-lines logging on stdout, asynchronous so that writing the access log never blocks the
// request path: when the queue is full the oldest line is dropped and counted
// (kurz_log_lines_dropped_total) instead of slowing requests down.
//
// Every line: {"ts":"2026-11-23T23:27:06.123Z","level":"info","service":...,"instance":...,
//              "msg":"...", <fields>}
//
// One background thread writes. Access lines (access()) are collected and written many to a
// write(2): when Output::batch_bytes are waiting, Output::flush_interval after at the latest, with
// the next other line, and at shutdown() (also run at exit()). Every other line, at any level, is
// written at once together with the access lines before it, in the order they were logged. A
// process that dies without exit() (abort, a crash, SIGKILL) loses the access lines still waiting:
// at most flush_interval of them.

#include <chrono>
#include <cstddef>
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

// Where lines go and how long access lines may wait (see the top); the services use the defaults.
struct Output {
  int fd = 1;  // stdout
  std::size_t batch_bytes = 32 * 1024;
  std::chrono::milliseconds flush_interval{100};
};

// Installs the process logger. Call once, early in main; safe to call again (tests): the previous
// logger is shut down first.
void init(const std::string& service, const std::string& instance, LogLevel level,
          Output output = {});
// Writes every line still waiting and stops the background threads. Idempotent; also registered
// with atexit() by init().
void shutdown();

bool enabled(LogLevel level);
void write(LogLevel level, std::string_view message, Fields fields = {});
inline void debug(std::string_view m, Fields f = {}) { write(LogLevel::Debug, m, f); }
inline void info(std::string_view m, Fields f = {}) { write(LogLevel::Info, m, f); }
inline void warn(std::string_view m, Fields f = {}) { write(LogLevel::Warn, m, f); }
inline void error(std::string_view m, Fields f = {}) { write(LogLevel::Error, m, f); }
// An access line, level info, written in batches (see the top).
void access(std::string_view message, Fields fields);

// Lines dropped because the queue was full or stdout refused them, since start.
std::uint64_t dropped_lines();

}  // namespace kurz::platform::log
