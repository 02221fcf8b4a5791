#pragma once
// Before the measurement: is the target there, and the links the load goes to (created through
// POST /api/links on one blocking keep-alive connection).
#include <optional>
#include <string>
#include <vector>

#include "codes.h"
#include "requests.h"
#include "url.h"

namespace kurz::load {

struct Reply {
  int status = 0;
  std::string body;
  std::string location;
};

class BlockingClient {
 public:
  BlockingClient(const Address& address, double timeout_s);
  ~BlockingClient();
  BlockingClient(const BlockingClient&) = delete;
  BlockingClient& operator=(const BlockingClient&) = delete;

  // Connects if needed (again after a close); sends the request and reads one response.
  std::optional<Reply> exchange(const std::string& request, std::string& error);
  bool connect(std::string& error);

 private:
  void close();
  const Address& address_;
  double timeout_s_;
  int fd_ = -1;
};

// A TCP connect within the timeout; the message says what failed.
bool check_reachable(const BaseUrl& url, const Address& address, double timeout_s,
                     std::string& error);

// Creates `count` links with unique targets; they come back in creation order (rank order).
// Stops with a message on a 429 (the target's creation limit), on any other answer than 201, or
// when the target goes away.
std::optional<std::vector<Link>> seed_links(const Address& address, const RequestBuilder& builder,
                                            long count, double timeout_s, bool quiet,
                                            std::string& error);

}  // namespace kurz::load
