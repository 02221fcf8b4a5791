#pragma once
// The producer side of the click stream (the consumer side is services/stats/redis, whose keys.h
// documents the whole key layout).
//
//   kurz:clicks                  stream; one entry per click, fields
//                                  t  epoch milliseconds (UTC) of the click
//                                  c  short code
//                                  r  raw referrer (bounded, valid UTF-8; may be empty)
//                                  u  raw user agent (bounded, valid UTF-8; may be empty)
//                                no MAXLEN: only the consumer trims, below what every group acked.
//   kurz:clicks:producer:<id>    string; the last batch sequence this producer appended (TTL 1 day,
//                                renewed by every batch). It makes retries idempotent: a batch
//                                whose reply was lost (timeout) is not appended twice when retried.

#include <cstdint>
#include <string>
#include <vector>

#include "kurz/redirect/click_buffer.h"

namespace kurz::redis {
class Client;
}

namespace kurz::redirect::redis {

inline constexpr const char* kClickStream = "kurz:clicks";

// A ClickPublisher onto the kurz:clicks stream: each batch is one EVALSHA (one round trip) that
// appends every event with XADD, atomically, unless this producer already appended that sequence.
// Failures are Unavailable errors (the buffer retries them).
class RedisClickPublisher final : public ClickPublisher {
 public:
  // `instance` names this process in the producer key; a random suffix is added, so that a
  // restarted instance with the same id starts a new sequence. `client` must outlive this.
  RedisClickPublisher(kurz::redis::Client& client, const std::string& instance);

  common::Result<void> publish(std::uint64_t sequence,
                               const std::vector<common::ClickEvent>& batch) override;

  const std::string& producer_key() const { return producer_key_; }

 private:
  kurz::redis::Client& client_;
  std::string producer_key_;
  std::vector<std::string> args_;  // reused between batches (the flusher is the only caller)
};

}  // namespace kurz::redirect::redis
