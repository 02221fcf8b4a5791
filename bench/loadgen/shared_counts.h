#pragma once
// The counters that bench/wrk/mix.lua keeps for kurz-load while wrk runs: a file mapped by both
// processes, an array of doubles (exact for integers below 2^53, and native to LuaJIT), one slot
// per wrk thread. Only the thread owning a slot writes it; kurz-load reads them all once a second
// and at the end. The layout goes to the script in KURZ_LOAD_LAYOUT, so it is defined here only.
#include <cstddef>
#include <string>

#include "histogram.h"
#include "mix.h"

namespace kurz::load {

struct SlotLayout {
  // Header words of each slot.
  static constexpr size_t kSent = 0;         // requests built (all kinds)
  static constexpr size_t kSentKind = 1;     // + kind: per kind
  static constexpr size_t kAnswered = 5;     // responses seen
  static constexpr size_t kUnmatched = 6;    // responses without this run's X-Request-Id
  static constexpr size_t kWrongTarget = 7;  // redirect 302 to another target
  static constexpr size_t kNotFound = 8;     // redirect 404 for a seeded code
  static constexpr size_t kChecked = 9;      // redirects compared with their target
  static constexpr size_t kStatus = 16;      // + group * 600 + status code; group 4: unmatched
  static constexpr size_t kStatusGroups = kKinds + 1;
  static constexpr size_t kStatusCodes = 600;
  static constexpr size_t kHistogram = kStatus + kStatusGroups * kStatusCodes;  // + kind * buckets
  static constexpr size_t kMax = kHistogram + kKinds * Histogram::kBuckets;     // + kind, in us
  static constexpr size_t kSlotWords = ((kMax + kKinds + 63) / 64) * 64;
  static constexpr size_t kMaxSlots = 64;

  // "slot_words,status,status_codes,histogram,buckets,max,slots,base" for the Lua script.
  static std::string describe();
};

class SharedCounts {
 public:
  SharedCounts() = default;
  ~SharedCounts();
  SharedCounts(const SharedCounts&) = delete;
  SharedCounts& operator=(const SharedCounts&) = delete;

  bool create(const std::string& path, std::string& error);
  void clear();
  const std::string& path() const { return path_; }
  double at(size_t slot, size_t word) const { return words_[slot * SlotLayout::kSlotWords + word]; }
  // Sum over all slots.
  double sum(size_t word) const;

 private:
  std::string path_;
  double* words_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace kurz::load
