// Slug rules: validate_slug, is_reserved and is_well_formed_code agree with each other, and an
// accepted slug is 3..64 characters of [A-Za-z0-9_-] starting with a letter or a digit.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "kurz/links/slug.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string slug(reinterpret_cast<const char*>(data), size);
  const bool code = kurz::links::is_well_formed_code(slug);
  const bool reserved = kurz::links::is_reserved(slug);
  const auto error = kurz::links::validate_slug(slug);
  if (!error) {
    kurz::fuzz::require(slug.size() >= 3 && slug.size() <= 64, "length 3..64");
    kurz::fuzz::require(std::isalnum(static_cast<unsigned char>(slug[0])) != 0, "first alnum");
    for (const char c : slug) {
      kurz::fuzz::require(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_',
                          "alphabet");
    }
    kurz::fuzz::require(!reserved, "an accepted slug is never reserved");
    kurz::fuzz::require(code, "an accepted slug is a well-formed code");
  } else {
    kurz::fuzz::require(error->code == "invalid_slug" || error->code == "slug_reserved",
                        "error code");
    kurz::fuzz::require(error->code != "slug_reserved" || reserved, "reserved means reserved");
  }
  return 0;
}
