#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "kurz/common/error.h"

namespace kurz::links {

inline constexpr std::size_t kMinSlugLength = 3;
inline constexpr std::size_t kMaxSlugLength = 64;

// True when `code` has the shape of a short code: 3..64 characters of [A-Za-z0-9_-], starting
// with a letter or digit. Every stored code has this shape, so anything else can be answered
// "not found" without asking the store. Codes are case-sensitive, custom slugs included (as at
// Bitly): generated codes are base62, where "aB3" and "ab3" are two codes, so a slug cannot be
// case-insensitive without also folding those; "Mesos" and "mesos" are two links.
bool is_well_formed_code(std::string_view code);

// True when `word` is a top-level path the application serves itself ("api", "health", "qr",
// "favicon.ico", ...), compared case-insensitively. Such words can never be short codes.
bool is_reserved(std::string_view word);

// Checks a custom slug chosen by a user. nullopt when acceptable; otherwise an Invalid error:
// "invalid_slug" (length or alphabet, or it starts with '-' or '_', which keeps slugs readable and
// distinct from option-like strings) or "slug_reserved". Pure and thread-safe.
std::optional<common::Error> validate_slug(std::string_view slug);

}  // namespace kurz::links
