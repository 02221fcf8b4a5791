#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace kurz::links {

// Generated codes are kCodeLength characters of base62 ([0-9A-Za-z]).
inline constexpr std::size_t kCodeLength = 7;
// 62^7: the number of distinct generated codes. Ids are taken modulo this.
inline constexpr std::uint64_t kCodeSpace = 3'521'614'606'208ULL;

// Maps an id (from LinkStore::next_id) to its short code. A fixed bijection of [0, kCodeSpace):
// distinct ids below kCodeSpace always give distinct codes, and consecutive ids give codes that
// look unrelated (this is obfuscation, not secrecy: it is not a cipher). Deterministic across
// processes and versions, so every instance agrees. Pure and thread-safe.
std::string encode_code(std::uint64_t id);

}  // namespace kurz::links
