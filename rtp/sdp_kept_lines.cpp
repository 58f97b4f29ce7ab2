// Lines kept away from sofia-sip's SDP parser and put back into the printed SDP.
#include "rtp/sdp_kept_lines.hpp"

#include <charconv>
#include <cstring>

#include <strings.h>

namespace b2bua::rtp::detail {

namespace {

constexpr std::string_view stand_in_prefix = "a=x-b2bua-kept:";

bool is_alnum_dash(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::size_t span(std::string_view s, bool (*pred)(char)) {
  std::size_t n = 0;
  while (n < s.size() && pred(s[n])) {
    ++n;
  }
  return n;
}

std::string_view skip_blanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  return s;
}

// a=rtpmap:<pt> <encoding>/<rate>[/<parameters>] as sofia reads it (encoding of letters, digits
// and '-'). Anything after the rate but "/..." would be dropped silently, so that is unreadable too.
bool sofia_reads_rtpmap(std::string_view encoding_on) {
  const std::size_t name = span(encoding_on, is_alnum_dash);
  if (name == 0 || name >= encoding_on.size() || encoding_on[name] != '/') {
    return false;
  }
  const std::string_view rate = encoding_on.substr(name + 1);
  const std::size_t digits = span(rate, is_digit);
  return digits > 0 && digits <= 9 && (digits == rate.size() || rate[digits] == '/');
}

// The KeptLine of an a= line sofia would refuse or mangle; nullopt for one it reads.
std::optional<KeptLine> keep_attribute(std::string_view record, std::size_t media) {
  const std::string_view body = record.substr(2);
  const std::size_t name_end = std::min(body.find(':'), body.size());
  const std::string_view name = body.substr(0, name_end);
  KeptLine out{std::string(record), media, -1, {}};
  // RFC 4566 att-field is a token; sofia takes letters, digits and '-' only. Our own stand-in
  // name from a peer is kept too, so that every stand-in sofia sees is ours.
  if (name.empty() || span(name, is_alnum_dash) != name.size() ||
      ::strncasecmp(name.data(), "x-b2bua-kept", name.size()) == 0) {
    return out;
  }
  if (name.size() != 6 || ::strncasecmp(name.data(), "rtpmap", 6) != 0 ||
      name_end >= body.size()) {
    return std::nullopt;
  }
  const std::string_view value = skip_blanks(body.substr(name_end + 1));
  unsigned pt = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), pt);
  if (ec != std::errc{} || end == value.data() || pt > 127) {
    return std::nullopt;  // sofia keeps an rtpmap without a payload type as a plain attribute
  }
  const std::string_view encoding_on = skip_blanks(value.substr(end - value.data()));
  if (sofia_reads_rtpmap(encoding_on)) {
    return std::nullopt;
  }
  out.rtpmap_pt = static_cast<int>(pt);
  out.encoding = std::string(encoding_on.substr(0, span(encoding_on, is_alnum_dash)));
  return out;
}

}  // namespace

std::optional<KeptLine> keep_line(std::string_view record, std::size_t media) {
  if (record.size() < 2 || record[1] != '=') {
    return std::nullopt;  // not an SDP line at all: refused as before
  }
  // The types sofia parses at each level; any other letter (RFC 4566 5: unknown types are
  // ignored) would stop it (session level) or be dropped (media level).
  const char* known = media == 0 ? "osiuepcbtrzkam" : "icbkam";
  if (std::strchr(known, record[0]) == nullptr || record[0] == '\0') {
    return KeptLine{std::string(record), media, -1, {}};
  }
  if (record[0] == 'a') {
    return keep_attribute(record, media);
  }
  return std::nullopt;
}

std::string stand_in(std::size_t index) {
  return std::string(stand_in_prefix) + std::to_string(index);
}

bool note_kept_rtpmaps(su_home_t* home, sdp_session_t* s, std::vector<KeptLine>& kept) {
  std::size_t index = 1;
  for (sdp_media_t* m = s->sdp_media; m != nullptr; m = m->m_next, ++index) {
    for (auto& k : kept) {
      if (k.media != index || k.rtpmap_pt < 0) {
        continue;
      }
      for (sdp_rtpmap_t* r = m->m_rtpmaps; r != nullptr; r = r->rm_next) {
        if (static_cast<int>(r->rm_pt) == k.rtpmap_pt && r->rm_predef) {
          // rm_predef stays set: sofia prints no rtpmap of its own, the kept line is printed.
          r->rm_encoding = su_strdup(home, k.encoding.c_str());
          r->rm_rate = 0;
          r->rm_params = nullptr;
          k.listed = true;
          if (r->rm_encoding == nullptr) {
            return false;
          }
        }
      }
    }
  }
  return true;
}

void drop_orphan_rtpmaps(sdp_session_t* s, const std::vector<KeptLine>& kept) {
  for (sdp_media_t* m = s->sdp_media; m != nullptr; m = m->m_next) {
    for (sdp_attribute_t** a = &m->m_attributes; *a != nullptr;) {
      const char* value = (*a)->a_value;
      std::size_t i = kept.size();
      if ((*a)->a_name != nullptr && std::strcmp((*a)->a_name, "x-b2bua-kept") == 0 &&
          value != nullptr) {
        std::from_chars(value, value + std::strlen(value), i);
      }
      bool orphan = false;
      if (i < kept.size() && kept[i].listed) {
        orphan = true;
        for (const sdp_rtpmap_t* r = m->m_rtpmaps; r != nullptr; r = r->rm_next) {
          orphan = orphan && static_cast<int>(r->rm_pt) != kept[i].rtpmap_pt;
        }
      }
      if (orphan) {
        *a = (*a)->a_next;
      } else {
        a = &(*a)->a_next;
      }
    }
  }
}

std::string restore_kept(std::string_view body, const std::vector<KeptLine>& kept) {
  std::string out;
  out.reserve(body.size() + 64 * kept.size());
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t end = body.find("\r\n", pos);
    end = end == std::string_view::npos ? body.size() : end;
    const std::string_view line = body.substr(pos, end - pos);
    std::size_t i = kept.size();
    if (line.substr(0, stand_in_prefix.size()) == stand_in_prefix) {
      const std::string_view n = line.substr(stand_in_prefix.size());
      const auto [stop, ec] = std::from_chars(n.data(), n.data() + n.size(), i);
      if (ec != std::errc{} || stop != n.data() + n.size()) {
        i = kept.size();
      }
    }
    out.append(i < kept.size() ? std::string_view(kept[i].text) : line);
    out.append("\r\n");
    pos = end + 2;
  }
  return out;
}

}  // namespace b2bua::rtp::detail
