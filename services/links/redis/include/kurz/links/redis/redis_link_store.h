#pragma once
// Links in Redis, shared by every instance of every service (stage 2 and stage 3).
//
// Keys (part of the deployment contract: the monolith and the links, redirect, stats and qr
// services all read them):
//   kurz:links:next_id   counter (INCR) behind generated codes: unique across any number of
//                        instances
//   kurz:links:seq       counter (INCR): insertion order, for listing
//   kurz:links:recent    sorted set: code scored by its insertion sequence
//   kurz:link:<code>     hash: url, created (epoch ms), expires (epoch ms, absent: never), seq
// A link is claimed and indexed in one Lua script: two instances racing for one slug cannot both
// win. Expired links stay (GET /{code} answers 410 for them), deleted ones go at once.

#include <memory>

#include "kurz/links/link_store.h"
#include "kurz/redis/client.h"

namespace kurz::links::redis {

class RedisLinkStore final : public LinkStore {
 public:
  explicit RedisLinkStore(kurz::redis::Client& client) : client_(client) {}

  common::Result<std::uint64_t> next_id() override;
  common::Result<bool> insert(const Link& link) override;
  common::Result<std::optional<Link>> find(std::string_view code) const override;
  common::Result<bool> remove(std::string_view code) override;
  common::Result<LinkPage> list(const ListQuery& query) const override;

 private:
  kurz::redis::Client& client_;
};

}  // namespace kurz::links::redis
