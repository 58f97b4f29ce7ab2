// DTMF in SIP INFO bodies.
#include "actors/dtmf_info.hpp"

#include <algorithm>
#include <cctype>

namespace b2bua {

namespace {

std::string lower_trim(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// "5", "*", "#", "a".."d" (or the RFC 4733 event numbers 10 and 11 for * and #).
std::optional<std::string> digit_of(std::string v) {
  v = lower_trim(std::move(v));
  if (v == "10") {
    return "*";
  }
  if (v == "11") {
    return "#";
  }
  if (v.size() != 1) {
    return std::nullopt;
  }
  const char c = v[0];
  if (std::isdigit(static_cast<unsigned char>(c)) || c == '*' || c == '#') {
    return std::string(1, c);
  }
  if (c >= 'a' && c <= 'd') {
    return std::string(1, static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return std::nullopt;
}

std::uint32_t duration_of(const std::string& v) {
  std::string t = lower_trim(v);
  if (t.empty() || t.size() > 6 || !std::all_of(t.begin(), t.end(), [](unsigned char c) {
        return std::isdigit(c);
      })) {
    return 0;
  }
  return static_cast<std::uint32_t>(std::stoul(t));
}

}  // namespace

std::optional<DtmfDigit> parse_dtmf_info(const std::string& content_type,
                                         const std::string& body) {
  std::string type = lower_trim(content_type.substr(0, content_type.find(';')));
  if (body.size() > 1024) {
    return std::nullopt;
  }
  if (type == "application/dtmf") {
    auto d = digit_of(body);
    if (!d) {
      return std::nullopt;
    }
    return DtmfDigit{*d, 0};
  }
  if (type != "application/dtmf-relay") {
    return std::nullopt;
  }
  std::optional<std::string> digit;
  std::uint32_t duration = 0;
  std::size_t pos = 0;
  while (pos <= body.size()) {
    std::size_t end = body.find('\n', pos);
    std::string line = body.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    pos = end == std::string::npos ? body.size() + 1 : end + 1;
    auto eq = line.find('=');
    if (eq == std::string::npos) {
      continue;
    }
    std::string key = lower_trim(line.substr(0, eq));
    if (key == "signal") {
      digit = digit_of(line.substr(eq + 1));
    } else if (key == "duration") {
      duration = duration_of(line.substr(eq + 1));
    }
  }
  if (!digit) {
    return std::nullopt;
  }
  return DtmfDigit{*digit, duration};
}

}  // namespace b2bua
