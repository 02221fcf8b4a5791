#include "kurz/stats/redis/click_consumer.h"

#include <algorithm>

#include "kurz/platform/log.h"
#include "kurz/stats/redis/click_apply.h"
#include "kurz/stats/redis/keys.h"
#include "kurz/stats/redis/stream_admin.h"

namespace kurz::stats::redis {
namespace {

namespace log = platform::log;
using kurz::redis::Reply;

constexpr int kMaxClaimRounds = 8;  // XAUTOCLAIM pages per claim cycle, so reads are not starved

kurz::redis::Options with_block(kurz::redis::Options options, std::chrono::milliseconds block) {
  options.command_timeout += block;
  options.pool_size = 1;  // one thread uses it
  return options;
}

bool no_group(const Reply& reply) { return reply.is_error() && reply.str.rfind("NOGROUP", 0) == 0; }

}  // namespace

ClickConsumer::ClickConsumer(const kurz::redis::Options& redis, ConsumerOptions options)
    : client_(std::make_unique<kurz::redis::Client>(with_block(redis, options.block))),
      options_(std::move(options)) {}

ClickConsumer::~ClickConsumer() { stop(); }

void ClickConsumer::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { run(); });
}

void ClickConsumer::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

ConsumerCounters ClickConsumer::counters() const { return {applied_.load(), lag_.load()}; }

void ClickConsumer::run() {
  std::chrono::milliseconds backoff{0};
  while (true) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, backoff, [this] { return stopping_; });
      if (stopping_) break;
    }
    const bool ok = cycle();
    if (ok != healthy_.exchange(ok)) {
      if (ok) {
        log::info("click consumer resumed", {{"consumer", options_.consumer}});
      } else {
        log::warn("click consumer cannot reach redis; retrying", {{"consumer", options_.consumer}});
      }
    }
    if (ok) {
      backoff = std::chrono::milliseconds(0);
    } else {
      own_pending_ = true;  // what failed to apply is still pending for us
      backoff = std::clamp(backoff * 2, std::chrono::milliseconds(50), options_.max_backoff);
    }
    if (options_.observer) options_.observer(counters());
  }
}

// One turn of the loop; false when Redis failed (the caller backs off).
bool ClickConsumer::cycle() {
  if (!group_ready_) {
    if (!ensure_group(*client_, options_.group).ok()) return false;
    group_ready_ = true;
  }
  if (!read()) return false;
  const auto now = SteadyClock::now();
  if (now >= next_claim_) {
    if (!claim()) return false;
    next_claim_ = now + options_.claim_interval;
  }
  if (now >= next_trim_) {
    if (!trim_acknowledged(*client_).ok()) return false;
    next_trim_ = now + options_.trim_interval;
  }
  if (now >= next_lag_) {
    const auto lag = stream_lag(*client_, options_.group);
    if (!lag.ok()) return false;
    lag_ = lag.value();
    next_lag_ = now + options_.lag_interval;
  }
  return true;
}

// Reads one batch: this consumer's own pending entries first (id 0, no blocking), then new ones.
bool ClickConsumer::read() {
  kurz::redis::Command command{"XREADGROUP",      "GROUP", options_.group,
                               options_.consumer, "COUNT", std::to_string(options_.batch_size)};
  if (!own_pending_) {
    command.insert(command.end(), {"BLOCK", std::to_string(options_.block.count())});
  }
  command.insert(command.end(), {"STREAMS", std::string(kClickStream), own_pending_ ? "0" : ">"});
  const auto reply = client_->command(command);
  if (!reply.ok()) return false;
  if (no_group(reply.value())) {  // Redis lost its data, or the stream was deleted
    group_ready_ = false;
    return false;
  }
  if (reply.value().is_nil()) return true;  // BLOCK timed out: nothing new
  if (reply.value().type != Reply::Type::Array || reply.value().elements.empty()) return false;
  const Reply& entries = reply.value().elements[0].elements.at(1);
  if (own_pending_ && entries.elements.empty()) own_pending_ = false;
  return apply(entries);
}

// Takes over entries idle for claim_min_idle, whoever holds them, and counts them.
bool ClickConsumer::claim() {
  std::string cursor = "0-0";
  for (int round = 0; round < kMaxClaimRounds; ++round) {
    const auto reply =
        client_->command({"XAUTOCLAIM", std::string(kClickStream), options_.group,
                          options_.consumer, std::to_string(options_.claim_min_idle.count()),
                          cursor, "COUNT", std::to_string(options_.batch_size)});
    if (!reply.ok()) return false;
    if (no_group(reply.value())) {
      group_ready_ = false;
      return false;
    }
    if (reply.value().type != Reply::Type::Array || reply.value().elements.size() < 2) {
      return false;
    }
    if (!apply(reply.value().elements[1])) return false;
    cursor = reply.value().elements[0].str;
    if (cursor == "0-0") break;
  }
  return true;
}

bool ClickConsumer::apply(const Reply& entries) {
  const auto parsed = parse_stream_entries(entries);
  if (parsed.empty()) return true;
  const auto counted = ack_and_apply(*client_, options_.group, parsed);
  if (!counted.ok()) {
    if (counted.error().kind != common::ErrorKind::Unavailable) {
      log::error("click apply failed", {{"error", counted.error().message}});
    }
    return false;
  }
  applied_ += counted.value();
  return true;
}

}  // namespace kurz::stats::redis
