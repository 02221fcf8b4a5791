#include "connections.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

namespace kurz::platform {
namespace {

int base_for_duplicates(std::size_t max_connections) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  const rlim_t soft = limit.rlim_cur == RLIM_INFINITY ? rlim_t{1} << 20 : limit.rlim_cur;
  const rlim_t count = max_connections;
  const rlim_t base = count + 1024;  // accepted sockets, Redis, logs, epoll and the like below
  if (base + count <= soft) return static_cast<int>(base);
  return soft > count + 64 ? static_cast<int>(soft - count) : 0;
}

}  // namespace

std::int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Connections::Connections(std::size_t max_connections, prometheus::Gauge* open_gauge)
    : max_connections_(max_connections),
      duplicate_base_(base_for_duplicates(max_connections)),
      open_gauge_(open_gauge) {}

int Connections::duplicate(int fd) const {
  const int ours = duplicate_base_ > 0 ? ::fcntl(fd, F_DUPFD_CLOEXEC, duplicate_base_) : -1;
  return ours >= 0 ? ours : ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
}

Connections::Admitted Connections::admit(const void* key,
                                         std::shared_ptr<ConnectionActivity> activity, int fd) {
  const std::lock_guard<std::mutex> lock(mutex_);
  Admitted admitted = Admitted::Yes;
  if (open_.size() >= max_connections_) {
    if (!evict_one()) {
      ::close(fd);
      return Admitted::Refused;
    }
    admitted = Admitted::Evicting;
  }
  open_.insert_or_assign(key, Entry{std::move(activity), fd});
  if (open_gauge_ != nullptr) open_gauge_->Set(static_cast<double>(open_.size()));
  return admitted;
}

void Connections::remove(const void* key) {
  const std::lock_guard<std::mutex> lock(mutex_);
  const auto it = open_.find(key);
  if (it == open_.end()) return;
  ::close(it->second.fd);
  open_.erase(it);
  if (open_gauge_ != nullptr) open_gauge_->Set(static_cast<double>(open_.size()));
}

std::size_t Connections::size() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return open_.size();
}

// The victim is claimed by swapping its in-answer count from 0 to kEvicted, so a request that
// starts meanwhile (begin_request counts itself first) saves it and another is chosen.
bool Connections::evict_one() {
  for (std::size_t attempt = 0; attempt < open_.size(); ++attempt) {
    auto victim = open_.end();
    std::int64_t oldest = std::numeric_limits<std::int64_t>::max();
    for (auto it = open_.begin(); it != open_.end(); ++it) {
      const auto& activity = *it->second.activity;
      if (activity.unanswered.load() != 0) continue;
      const auto active = activity.last_active.load(std::memory_order_relaxed);
      if (active < oldest) {
        oldest = active;
        victim = it;
      }
    }
    if (victim == open_.end()) return false;
    int idle = 0;
    if (!victim->second.activity->unanswered.compare_exchange_strong(
            idle, ConnectionActivity::kEvicted)) {
      continue;
    }
    // Its transport thread reads EOF and disconnects it; the entry is already gone.
    ::shutdown(victim->second.fd, SHUT_RDWR);
    ::close(victim->second.fd);
    open_.erase(victim);
    return true;
  }
  return false;
}

}  // namespace kurz::platform
