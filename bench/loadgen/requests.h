#pragma once
// The bytes of each request of the mix (HTTP/1.1, keep-alive), the same for kurz-load's two
// users: the seeding client and the open-loop engine. bench/wrk/mix.lua builds the same ones.
#include <string>

#include "mix.h"
#include "url.h"

namespace kurz::load {

class RequestBuilder {
 public:
  // api_key: sent as X-API-Key with every create (empty: none).
  RequestBuilder(const BaseUrl& url, std::string run_id, const std::string& api_key = "");

  std::string get(const std::string& path) const;
  // POST /api/links {"url": target}
  std::string create(const std::string& target) const;
  // A unique target for the n-th create of this run and sender.
  std::string unique_target(unsigned sender, unsigned long long n) const;
  // The request of `kind` for `code` (qr alternates .svg and .png with `n`); creates use
  // unique_target(sender, n).
  std::string for_kind(Kind kind, const std::string& code, unsigned sender,
                       unsigned long long n) const;

 private:
  std::string prefix_;
  std::string common_headers_;
  std::string create_headers_;
  std::string run_id_;
};

// A short id for the run: targets stay unique across runs against the same store.
std::string make_run_id();

}  // namespace kurz::load
