// Helpers shared by the fuzz targets: the input as text, split into fields so that the seed corpora
// stay readable (one field per line, or SDP bodies separated by "%%" lines).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace b2bua::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// The first `fields - 1` lines of `text` (without their '\n'), then the rest as the last field.
/// Missing fields are empty.
inline std::vector<std::string_view> fields(std::string_view text, std::size_t fields) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < fields) {
    const auto nl = text.find('\n');
    out.push_back(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
  }
  out.push_back(text);
  return out;
}

/// `text` cut at each line "%%" (the line itself dropped), at most `max` parts.
inline std::vector<std::string_view> parts(std::string_view text, std::size_t max) {
  std::vector<std::string_view> out;
  constexpr std::string_view sep = "\n%%\n";
  while (out.size() + 1 < max) {
    const auto at = text.find(sep);
    if (at == std::string_view::npos) {
      break;
    }
    out.push_back(text.substr(0, at + 1));
    text = text.substr(at + sep.size());
  }
  out.push_back(text);
  return out;
}

/// A small hash of the input that picks the variant of a call (ports, modes, addresses), so that
/// each input always takes the same path.
inline std::uint32_t pick(std::string_view text) {
  std::uint32_t h = 2166136261u;
  for (const char c : text) {
    h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
  }
  return h;
}

/// A broken invariant: print it and abort, which libFuzzer reports as a crash with the input.
[[noreturn]] inline void broken(const char* what) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
  std::abort();
}

}  // namespace b2bua::fuzz
