#include "shared_counts.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kurz::load {

std::string SlotLayout::describe() {
  return std::to_string(kSlotWords) + "," + std::to_string(kStatus) + "," +
         std::to_string(kStatusCodes) + "," + std::to_string(kHistogram) + "," +
         std::to_string(Histogram::kBuckets) + "," + std::to_string(kMax) + "," +
         std::to_string(kMaxSlots) + "," + std::to_string(Histogram::kBase);
}

SharedCounts::~SharedCounts() {
  if (words_ != nullptr) munmap(words_, bytes_);
  if (!path_.empty()) unlink(path_.c_str());
}

bool SharedCounts::create(const std::string& path, std::string& error) {
  bytes_ = SlotLayout::kSlotWords * SlotLayout::kMaxSlots * sizeof(double);
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = "cannot create " + path + ": " + std::strerror(errno);
    return false;
  }
  path_ = path;
  if (ftruncate(fd, static_cast<off_t>(bytes_)) != 0) {
    error = "cannot size " + path + ": " + std::strerror(errno);
    close(fd);
    return false;
  }
  void* mapped = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (mapped == MAP_FAILED) {
    error = "cannot map " + path + ": " + std::strerror(errno);
    return false;
  }
  words_ = static_cast<double*>(mapped);
  return true;
}

void SharedCounts::clear() { std::memset(words_, 0, bytes_); }

double SharedCounts::sum(size_t word) const {
  double total = 0;
  for (size_t slot = 0; slot < SlotLayout::kMaxSlots; ++slot) total += at(slot, word);
  return total;
}

}  // namespace kurz::load
