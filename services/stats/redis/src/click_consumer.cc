#include "kurz/stats/redis/click_consumer.h"

#include <algorithm>

#include "kurz/clickstream/stream.h"
#include "kurz/platform/log.h"
#include "kurz/stats/redis/click_apply.h"
#include "kurz/stats/redis/keys.h"
#include "kurz/stats/redis/stream_admin.h"

namespace kurz::stats::redis {
namespace {

namespace log = platform::log;
using kurz::redis::Reply;

constexpr int kMaxClaimRounds = 8;  // XAUTOCLAIM pages per claim cycle, so reads are not starved

// The streams read, by index: format 1, then format 2.
constexpr clickstream::Stream kStreams[2] = {clickstream::Stream::Legacy, clickstream::Stream::V2};

int stream_index(const std::string& name) {
  if (name == clickstream::kLegacyStream) return 0;
  if (name == clickstream::kStream) return 1;
  return -1;
}

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

ConsumerCounters ClickConsumer::counters() const {
  return {applied_.load(), lag_.load(), unknown_.load()};
}

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
      held_.clear();        // still pending too: re-read below
      held_clicks_ = 0;
      for (int i = 0; i < 2; ++i) {
        pending_from_[i] = "0";
        pending_done_[i] = false;
      }
      backoff = std::clamp(backoff * 2, std::chrono::milliseconds(50), options_.max_backoff);
    }
    if (options_.observer) options_.observer(counters());
  }
  apply_held();  // best effort: what is not applied stays pending for this consumer's name
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

// Reads one batch of both streams: this consumer's own pending entries first (from id 0, without
// blocking, walking on past what it leaves pending), then new ones (>, blocking).
bool ClickConsumer::read() {
  kurz::redis::Command command{"XREADGROUP",      "GROUP", options_.group,
                               options_.consumer, "COUNT", std::to_string(options_.batch_size)};
  if (!own_pending_) {
    auto block = options_.block;
    if (!held_.empty()) {  // wait for more no longer than the oldest held entry may wait
      const auto waited =
          std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - held_since_);
      block = std::clamp(options_.apply_linger - waited, std::chrono::milliseconds(1), block);
    }
    command.insert(command.end(), {"BLOCK", std::to_string(block.count())});
  }
  command.push_back("STREAMS");
  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i) {
    if (own_pending_ && pending_done_[i]) continue;
    command.push_back(std::string(clickstream::key_of(kStreams[i])));
    ids.push_back(own_pending_ ? pending_from_[i] : ">");
  }
  command.insert(command.end(), ids.begin(), ids.end());
  const auto reply = client_->command(command);
  if (!reply.ok()) return false;
  if (no_group(reply.value())) {  // Redis lost its data, or a stream was deleted
    group_ready_ = false;
    return false;
  }
  if (reply.value().is_nil()) {  // BLOCK timed out (or nothing pending left)
    if (own_pending_) own_pending_ = false;
    return apply_held();
  }
  if (reply.value().type != Reply::Type::Array) return false;
  bool seen[2] = {false, false};
  for (const auto& stream : reply.value().elements) {
    if (stream.type != Reply::Type::Array || stream.elements.size() != 2) return false;
    const int index = stream_index(stream.elements[0].str);
    if (index < 0) return false;
    const Reply& entries = stream.elements[1];
    seen[index] = true;
    if (own_pending_) {
      if (entries.elements.empty()) {
        pending_done_[index] = true;
      } else {
        pending_from_[index] = entries.elements.back().elements.empty()
                                   ? pending_from_[index]
                                   : entries.elements.back().elements[0].str;
      }
    }
    if (own_pending_) {
      if (!apply(entries, index)) return false;
      continue;
    }
    for (auto& entry : clickstream::decode_entries(entries, kStreams[index])) {
      if (entry.kind == StreamEntry::Kind::Unknown) {
        if (unknown_++ == 0) {
          log::warn("click stream entry of an unknown format left pending for a newer worker",
                    {{"stream", stream.elements[0].str}, {"id", entry.id}});
        }
        continue;
      }
      if (held_.empty()) held_since_ = SteadyClock::now();
      held_clicks_ += entry.stream == clickstream::Stream::Legacy ? 1 : entry.clicks;
      held_.push_back(std::move(entry));
    }
  }
  if (!own_pending_ && !held_.empty() &&
      (held_clicks_ >= options_.apply_min_clicks ||
       SteadyClock::now() - held_since_ >= options_.apply_linger)) {
    return apply_held();
  }
  if (own_pending_) {
    for (int i = 0; i < 2; ++i) {
      if (!seen[i]) pending_done_[i] = true;
    }
    if (pending_done_[0] && pending_done_[1]) own_pending_ = false;
  }
  return true;
}

// Takes over entries idle for claim_min_idle, whoever holds them, and counts them.
bool ClickConsumer::claim() {
  for (int index = 0; index < 2; ++index) {
    std::string cursor = "0-0";
    for (int round = 0; round < kMaxClaimRounds; ++round) {
      const auto reply = client_->command(
          {"XAUTOCLAIM", std::string(clickstream::key_of(kStreams[index])), options_.group,
           options_.consumer, std::to_string(options_.claim_min_idle.count()), cursor, "COUNT",
           std::to_string(options_.batch_size)});
      if (!reply.ok()) return false;
      if (no_group(reply.value())) {
        group_ready_ = false;
        return false;
      }
      if (reply.value().type != Reply::Type::Array || reply.value().elements.size() < 2) {
        return false;
      }
      if (!apply(reply.value().elements[1], index)) return false;
      cursor = reply.value().elements[0].str;
      if (cursor == "0-0") break;
    }
  }
  return true;
}

// Counts the entries of one stream at once (own pending, claimed).
bool ClickConsumer::apply(const Reply& entries, int stream) {
  auto decoded = clickstream::decode_entries(entries, kStreams[stream]);
  std::vector<StreamEntry> known;
  known.reserve(decoded.size());
  for (auto& entry : decoded) {
    if (entry.kind == StreamEntry::Kind::Unknown) {
      if (unknown_++ == 0) {
        log::warn(
            "click stream entry of an unknown format left pending for a newer worker",
            {{"stream", std::string(clickstream::key_of(kStreams[stream]))}, {"id", entry.id}});
      }
      continue;
    }
    known.push_back(std::move(entry));
  }
  return apply_entries(known);
}

bool ClickConsumer::apply_held() {
  if (held_.empty()) return true;
  const bool ok = apply_entries(held_);
  held_.clear();  // on failure, still pending: the caller re-reads its own pending entries
  held_clicks_ = 0;
  return ok;
}

// Counts entries in scripts of at most apply_max_rows rows (whole entries).
bool ClickConsumer::apply_entries(const std::vector<StreamEntry>& entries) {
  std::vector<StreamEntry> chunk;
  std::size_t rows = 0;
  const auto flush = [&]() {
    if (chunk.empty()) return true;
    const auto counted = ack_and_apply(*client_, options_.group, chunk);
    chunk.clear();
    rows = 0;
    if (!counted.ok()) {
      if (counted.error().kind != common::ErrorKind::Unavailable) {
        log::error("click apply failed", {{"error", counted.error().message}});
      }
      return false;
    }
    applied_ += counted.value();
    return true;
  };
  for (const auto& entry : entries) {
    if (!chunk.empty() && rows + entry.rows.size() > options_.apply_max_rows && !flush())
      return false;
    rows += entry.rows.size();
    chunk.push_back(entry);
  }
  return flush();
}

}  // namespace kurz::stats::redis
