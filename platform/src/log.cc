#include "kurz/platform/log.h"

#include <poll.h>
#include <spdlog/async.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "kurz/platform/http.h"

namespace kurz::platform::log {
namespace {

// Small on purpose: each slot holds a preallocated message buffer, and the queue is resident.
constexpr std::size_t kQueueSize = 2048;
constexpr const char* kPattern = R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})";

// Lines lost because the output refused them (a closed pipe): added to the queue's overruns.
std::atomic<std::uint64_t> g_unwritten{0};

// Formats into one buffer and writes it with as few write(2) calls as it can: on flush(), or when
// `batch_bytes` are waiting. Only the pool's thread logs into it; the flusher thread and
// shutdown() flush it too, under base_sink's mutex.
class BatchSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  BatchSink(int fd, std::size_t batch_bytes) : fd_(fd), batch_bytes_(batch_bytes) {
    buffer_.reserve(batch_bytes + 4096);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    formatter_->format(msg, buffer_);  // appends
    if (buffer_.size() >= batch_bytes_) write_out();
  }
  void flush_() override { write_out(); }

 private:
  void write_out() {
    const char* data = buffer_.data();
    std::size_t left = buffer_.size();
    int waits = 0;
    while (left > 0) {
      const auto written = ::write(fd_, data, left);
      if (written > 0) {
        data += written;
        left -= static_cast<std::size_t>(written);
        continue;
      }
      if (written < 0 && errno == EINTR) continue;
      if (written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && waits++ < 10) {
        pollfd out{fd_, POLLOUT, 0};  // a non-blocking stdout: wait a little for room
        ::poll(&out, 1, 100);
        continue;
      }
      break;  // EPIPE (nobody reads any more) or another error: the rest is lost, and counted
    }
    if (left > 0) g_unwritten += static_cast<std::uint64_t>(std::count(data, data + left, '\n'));
    buffer_.clear();
  }

  int fd_;
  std::size_t batch_bytes_;
  spdlog::memory_buf_t buffer_;
};

// Flushes the sink every `interval`, so that an access line waits at most that long.
class Flusher {
 public:
  Flusher(std::shared_ptr<BatchSink> sink, std::chrono::milliseconds interval)
      : thread_([this, sink = std::move(sink), interval] {
          std::unique_lock lock(mutex_);
          while (!wake_.wait_for(lock, interval, [this] { return stop_; })) {
            lock.unlock();
            sink->flush();
            lock.lock();
          }
        }) {}
  ~Flusher() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  Flusher(const Flusher&) = delete;
  Flusher& operator=(const Flusher&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;  // last: starts once the rest is built
};

std::mutex g_mutex;  // init(), shutdown() and dropped_lines()
std::shared_ptr<spdlog::details::thread_pool> g_pool;
std::shared_ptr<BatchSink> g_sink;
std::unique_ptr<Flusher> g_flusher;
std::shared_ptr<spdlog::logger> g_logger;  // every line but access lines: flushed at once
std::shared_ptr<spdlog::logger> g_access;  // access lines: batched
std::atomic<int> g_level{static_cast<int>(spdlog::level::off)};  // enabled() without a lock
std::string g_prefix;                // "service":"...","instance":"...",
std::uint64_t g_dropped_before = 0;  // overruns of the pools shut down before

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

void shutdown_locked() {
  g_level = static_cast<int>(spdlog::level::off);
  std::atomic_store(&g_logger, std::shared_ptr<spdlog::logger>());
  std::atomic_store(&g_access, std::shared_ptr<spdlog::logger>());
  g_flusher.reset();
  if (g_pool) {
    g_dropped_before += g_pool->overrun_counter();
    // The loggers hold it weakly; a thread in the middle of logging holds it for a moment, and
    // then ends it. Its end: its thread writes what is queued into the sink, then stops.
    const std::weak_ptr<spdlog::details::thread_pool> ended = g_pool;
    g_pool.reset();
    for (int i = 0; i < 1000 && !ended.expired(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  if (g_sink) g_sink->flush();
  g_sink.reset();
}

}  // namespace

void init(const std::string& service, const std::string& instance, LogLevel level, Output output) {
  static std::once_flag at_exit;
  std::call_once(at_exit, [] { std::atexit([] { shutdown(); }); });
  std::lock_guard lock(g_mutex);
  shutdown_locked();
  std::string prefix = R"("service":")";
  append_json_escaped(prefix, service);
  prefix += R"(","instance":")";
  append_json_escaped(prefix, instance);
  prefix += "\",";
  g_prefix = std::move(prefix);

  g_sink = std::make_shared<BatchSink>(output.fd, std::max<std::size_t>(output.batch_bytes, 1));
  g_sink->set_formatter(
      std::make_unique<spdlog::pattern_formatter>(kPattern, spdlog::pattern_time_type::utc));
  auto pool = std::make_shared<spdlog::details::thread_pool>(kQueueSize, 1);
  const auto make = [&](const char* name, spdlog::level::level_enum flush_level) {
    auto logger = std::make_shared<spdlog::async_logger>(
        name, g_sink, pool, spdlog::async_overflow_policy::overrun_oldest);
    logger->set_level(to_spdlog(level));
    logger->flush_on(flush_level);
    return logger;
  };
  auto logger = make("kurz", spdlog::level::trace);
  auto access = make("kurz.access", spdlog::level::off);
  g_flusher = std::make_unique<Flusher>(
      g_sink, std::max(output.flush_interval, std::chrono::milliseconds(1)));
  g_pool = std::move(pool);
  std::atomic_store(&g_logger, std::shared_ptr<spdlog::logger>(std::move(logger)));
  std::atomic_store(&g_access, std::shared_ptr<spdlog::logger>(std::move(access)));
  g_level = static_cast<int>(to_spdlog(level));
}

void shutdown() {
  std::lock_guard lock(g_mutex);
  shutdown_locked();
}

bool enabled(LogLevel level) {
  const auto wanted = static_cast<int>(to_spdlog(level));
  return wanted != static_cast<int>(spdlog::level::off) && wanted >= g_level.load();
}

namespace {

void write_to(const std::shared_ptr<spdlog::logger>& logger, LogLevel level,
              std::string_view message, Fields fields) {
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

}  // namespace

void write(LogLevel level, std::string_view message, Fields fields) {
  if (!enabled(level)) return;
  write_to(std::atomic_load(&g_logger), level, message, fields);
}

void access(std::string_view message, Fields fields) {
  if (!enabled(LogLevel::Info)) return;
  write_to(std::atomic_load(&g_access), LogLevel::Info, message, fields);
}

std::uint64_t dropped_lines() {
  std::lock_guard lock(g_mutex);
  return g_unwritten.load() + g_dropped_before + (g_pool ? g_pool->overrun_counter() : 0);
}

}  // namespace kurz::platform::log
