#pragma once
// The open connections, for MAX_CONNECTIONS. At the bound, the least recently active connection
// with no request being answered (idle keep-alive, or a head or body still arriving) is shut down
// to admit the new one, as nginx reuses keep-alive connections when out of worker_connections;
// only when every connection has a request being answered is the new one closed instead.
//
// One mutex, taken once when a connection opens and once when it closes (never per request);
// the eviction scan is O(n) and only runs at the bound.
//
// Each entry holds a duplicate of the peer's socket descriptor, and eviction shuts the socket
// down through it. Pistache 0.0.5's handlePeerDisconnection (EOF or reset) calls onDisconnection
// before it closes the peer's descriptor, but its HTTP transport's read and keep-alive timeouts
// (Http::TransportImpl: the 408 path and idle keep-alive) call Transport::removePeer directly:
// the descriptor is closed, onDisconnection never runs, and the number can be reused by the next
// accept while another thread scans (read in libpistache.so.0.0.5's code, and measured: the
// open-connections count used to keep every timed-out connection). The duplicate pins the socket
// itself until its entry goes, so a shutdown never reaches another connection. The entry goes in
// onDisconnection, at eviction, or at the latest when Pistache destroys the peer, whichever is
// first. Two descriptors per open connection: RLIMIT_NOFILE needs about 2 x MAX_CONNECTIONS +
// 1024.

#include <prometheus/gauge.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace kurz::platform {

std::int64_t steady_now_ns();

// What the bound knows of a connection, written by the connection's transport thread.
struct ConnectionActivity {
  // `unanswered` of a connection chosen for eviction: it takes no further request.
  static constexpr int kEvicted = std::numeric_limits<int>::min() / 2;

  std::atomic<int> unanswered{0};  // requests whose answer is not yet on the wire, or kEvicted
  std::atomic<std::int64_t> last_active{steady_now_ns()};  // bytes in or an answer out

  void touch() { last_active.store(steady_now_ns(), std::memory_order_relaxed); }
  bool evicted() const { return unanswered.load() < 0; }
  // Counts a request that starts, before anything else: an eviction in another thread either
  // sees it and spares the connection, or has claimed the connection first and this returns
  // false (answer nothing: its socket is shut down).
  bool begin_request() {
    int count = unanswered.load();
    do {
      if (count < 0) return false;
    } while (!unanswered.compare_exchange_weak(count, count + 1));
    return true;
  }
};

class Connections {
 public:
  enum class Admitted { Yes, Evicting, Refused };

  // `open_gauge` (may be null) follows the number of entries.
  Connections(std::size_t max_connections, prometheus::Gauge* open_gauge);
  Connections(const Connections&) = delete;
  Connections& operator=(const Connections&) = delete;

  // Our duplicate of a connection's socket, or -1 (no descriptor to spare). Pistache hands a new
  // connection to transport thread fd % threads; a duplicate taking the next free number would
  // give every accepted socket the same parity (all on one thread of two), so duplicates are
  // placed above the numbers accepted sockets get, while the descriptor limit allows.
  int duplicate(int fd) const;

  // Registers the connection `key` (taking ownership of `fd`, from duplicate()); if
  // max_connections are open, first shuts down and forgets the least recently active one with
  // no request being answered. Refused (fd closed, nothing registered) if there is none.
  Admitted admit(const void* key, std::shared_ptr<ConnectionActivity> activity, int fd);

  // `key` is gone or going: its entry (if still there) leaves and its descriptor is closed.
  void remove(const void* key);

  std::size_t size() const;

 private:
  struct Entry {
    std::shared_ptr<ConnectionActivity> activity;
    int fd = -1;
  };
  bool evict_one();  // with mutex_ held

  const std::size_t max_connections_;
  const int duplicate_base_;
  prometheus::Gauge* const open_gauge_;
  mutable std::mutex mutex_;
  std::unordered_map<const void*, Entry> open_;
};

}  // namespace kurz::platform
