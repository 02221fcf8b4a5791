#pragma once
// The producer side of the click stream. Its contract (keys, entry format, versions, the rolling
// update) is services/clickstream's stream.h; the consumer side is services/stats/redis.

#include <cstdint>
#include <string>
#include <vector>

#include "kurz/clickstream/stream.h"
#include "kurz/redirect/click_buffer.h"

namespace kurz::redis {
class Client;
}

namespace kurz::redirect::redis {

// A ClickPublisher onto the click stream (kurz:clicks:v2): each batch is aggregated into rows
// (names normalised) and appended as ONE entry by one EVALSHA (one round trip), unless this
// producer already appended that sequence (clickstream::append_batch). Failures are Unavailable
// errors (the buffer retries them).
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
};

}  // namespace kurz::redirect::redis
