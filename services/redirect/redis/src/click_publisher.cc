#include "kurz/redirect/redis/click_publisher.h"

#include <random>

#include "kurz/redis/client.h"

namespace kurz::redirect::redis {
namespace {

std::string random_suffix() {
  std::random_device device;
  std::uint64_t value = (std::uint64_t{device()} << 32) ^ device();
  static const char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (auto& c : out) {
    c = kHex[value & 0xf];
    value >>= 4;
  }
  return out;
}

}  // namespace

RedisClickPublisher::RedisClickPublisher(kurz::redis::Client& client, const std::string& instance)
    : client_(client),
      producer_key_(std::string(clickstream::kProducerPrefix) + instance + ":" + random_suffix()) {}

common::Result<void> RedisClickPublisher::publish(std::uint64_t sequence,
                                                  const std::vector<common::ClickEvent>& batch) {
  const auto appended = clickstream::append_batch(client_, producer_key_, sequence, batch);
  if (!appended.ok()) return appended.error();
  return {};
}

}  // namespace kurz::redirect::redis
