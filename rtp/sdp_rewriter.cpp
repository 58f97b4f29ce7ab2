// SDP parsing and rewriting for the media relay on top of sofia-sip's SDP parser and printer.
// Debian's sofia-sip is a 2011 snapshot with known defects; the input is normalised and checked
// here first so that sofia never loops, reads out of bounds or silently drops what it cannot read.
#include "rtp/sdp_rewriter.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <memory>
#include <utility>

#include <arpa/inet.h>
#include <sofia-sip/sdp.h>
#include <sofia-sip/su_alloc.h>

#include "rtp/sdp_kept_lines.hpp"
#include "rtp/sdp_telephone_event.hpp"

namespace b2bua::rtp {
namespace {

// The parser keeps a=sendrecv and friends as ordinary attributes (in place, on rejected streams
// too) instead of folding them into m_mode and regenerating them; the printer prints them as is.
constexpr int parse_flags = sdp_f_mode_manual;
constexpr int print_flags = sdp_f_mode_manual;

struct HomeUnref {
  void operator()(su_home_t* home) const { su_home_unref(home); }
};
struct ParserFree {
  void operator()(sdp_parser_t* parser) const { sdp_parser_free(parser); }
};
struct PrinterFree {
  void operator()(sdp_printer_t* printer) const { sdp_printer_free(printer); }
};
using HomePtr = std::unique_ptr<su_home_t, HomeUnref>;
using ParserPtr = std::unique_ptr<sdp_parser_t, ParserFree>;
using PrinterPtr = std::unique_ptr<sdp_printer_t, PrinterFree>;

// One printable line, whatever bytes the input (and so sofia's message) contained.
void set_error(std::string* error, std::string_view text) noexcept {
  if (error == nullptr) {
    return;
  }
  try {
    std::string line;
    for (const char c : text.substr(0, 200)) {
      const auto u = static_cast<unsigned char>(c);
      line.push_back(u < 0x20 || u >= 0x7f ? '?' : c);
    }
    *error = line.empty() ? "sdp: error" : std::move(line);
  } catch (...) {
    error->clear();  // out of memory: nothing better to say
  }
}

bool is_token_char(char c) {
  return c != '\0' && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       std::strchr("-!#$%&'*+.^_`{|}~", c) != nullptr);
}

bool all_of(std::string_view s, bool (*pred)(char)) {
  for (const char c : s) {
    if (!pred(c)) {
      return false;
    }
  }
  return !s.empty();
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && is_blank(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

std::vector<std::string_view> split_blanks(std::string_view s) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_blank(s[i])) {
      ++i;
    }
    const std::size_t start = i;
    while (i < s.size() && !is_blank(s[i])) {
      ++i;
    }
    if (i > start) {
      words.push_back(s.substr(start, i - start));
    }
  }
  return words;
}

// "m=" media SP port["/"count] SP proto *("/" proto) 1*(SP fmt), all tokens (RFC 4566). sofia 1.12
// loops allocating until memory runs out on a format that starts with a non-token character.
bool valid_media_line(std::string_view rest) {
  const auto words = split_blanks(rest);
  if (words.size() < 4 || !all_of(words[0], is_token_char)) {
    return false;
  }
  const auto slash = words[1].find('/');
  if (!all_of(words[1].substr(0, slash), is_digit) ||
      (slash != std::string_view::npos && !all_of(words[1].substr(slash + 1), is_digit))) {
    return false;
  }
  std::string_view proto = words[2];
  for (auto cut = proto.find('/');; cut = proto.find('/')) {
    if (!all_of(proto.substr(0, cut), is_token_char)) {
      return false;
    }
    if (cut == std::string_view::npos) {
      break;
    }
    proto.remove_prefix(cut + 1);
  }
  for (std::size_t i = 3; i < words.size(); ++i) {
    if (!all_of(words[i], is_token_char)) {
      return false;
    }
  }
  return true;
}

// The input as sofia should see it, plus what sofia 1.12 loses: b= modifiers other than CT and AS
// become AS, and media-level i= lines are dropped.
struct Prepared {
  std::string text;
  std::size_t media_count = 0;
  std::vector<std::vector<std::string>> bandwidth_names{1};      // [0] session, [i] m= line i
  std::vector<std::optional<std::string>> media_information{1};  // [i] i= of m= line i
  std::vector<detail::KeptLine> kept;  // lines sofia sees as stand-ins (sdp_kept_lines.hpp)
};

// Records are split on runs of CR/LF like sofia does. Blank and whitespace-only lines are dropped
// (sofia stops parsing at one without a word), surrounding blanks trimmed; a one-character line is
// refused (sofia 1.12 reads past its end).
std::optional<Prepared> prepare(std::string_view sdp, std::string& why) {
  if (sdp.empty()) {
    why = "sdp: empty body";
    return std::nullopt;
  }
  if (sdp.size() > max_sdp_size) {
    why = "sdp: body larger than " + std::to_string(max_sdp_size) + " bytes";
    return std::nullopt;
  }
  if (sdp.find('\0') != std::string_view::npos) {
    why = "sdp: NUL byte in body";
    return std::nullopt;
  }
  Prepared out;
  out.text.reserve(sdp.size() + 16);
  std::size_t pos = 0;
  while (pos < sdp.size()) {
    const std::size_t end = std::min(sdp.find_first_of("\r\n", pos), sdp.size());
    const std::string_view record = trim_blanks(sdp.substr(pos, end - pos));
    pos = end + 1;
    if (record.empty()) {
      continue;
    }
    if (record.size() < 2) {
      why = "sdp: malformed line \"" + std::string(record) + "\"";
      return std::nullopt;
    }
    if (!out.text.empty()) {  // the first line is v=0, for sofia to check
      if (auto kept = detail::keep_line(record, out.media_count)) {
        out.text.append(detail::stand_in(out.kept.size()));
        out.text.append("\r\n");
        out.kept.push_back(std::move(*kept));
        continue;
      }
    }
    if (record[1] == '=') {
      const std::string_view rest = trim_blanks(record.substr(2));
      if (record[0] == 'm') {
        if (!valid_media_line(rest)) {
          why = "sdp: malformed m= line \"" + std::string(record.substr(0, 60)) + "\"";
          return std::nullopt;
        }
        ++out.media_count;
        out.bandwidth_names.emplace_back();
        out.media_information.emplace_back();
      } else if (record[0] == 'b') {
        std::size_t n = 0;
        while (n < rest.size() && is_token_char(rest[n])) {
          ++n;
        }
        out.bandwidth_names.back().emplace_back(rest.substr(0, n));
      } else if (record[0] == 'i' && out.media_count > 0) {
        out.media_information.back() = std::string(rest);
      }
    }
    out.text.append(record);
    out.text.append("\r\n");
  }
  return out;
}

// A parsed description and the su_home that owns it and every string assigned into it.
struct Parsed {
  HomePtr home;  // declared first: destroyed last
  ParserPtr parser;
  sdp_session_t* session = nullptr;
  std::vector<detail::KeptLine> kept;  // printed back in place of their stand-ins
};

std::size_t count_media(const sdp_session_t* s) {
  std::size_t n = 0;
  for (const sdp_media_t* m = s->sdp_media; m != nullptr; m = m->m_next) {
    ++n;
  }
  return n;
}

const sdp_connection_t* stream_connection(const sdp_media_t* m, const sdp_session_t* s) {
  return m->m_connections != nullptr ? m->m_connections : s->sdp_connection;
}

// Puts back what sofia 1.12 lost (see Prepared). Every b= line becomes sdp_bw_x with the
// modifier as written, which the printer prints verbatim.
bool restore_lost_fields(su_home_t* home, sdp_session_t* s, const Prepared& prepared) {
  const auto restore = [home](sdp_bandwidth_t* b, const std::vector<std::string>& names) {
    std::size_t i = 0;
    for (; b != nullptr; b = b->b_next, ++i) {
      if (i >= names.size()) {
        return false;
      }
      b->b_modifier = sdp_bw_x;
      b->b_modifier_name = su_strdup(home, names[i].c_str());
      if (b->b_modifier_name == nullptr) {
        return false;
      }
    }
    return i == names.size();
  };
  if (!restore(s->sdp_bandwidths, prepared.bandwidth_names[0])) {
    return false;
  }
  std::size_t index = 1;
  for (sdp_media_t* m = s->sdp_media; m != nullptr; m = m->m_next, ++index) {
    if (!restore(m->m_bandwidths, prepared.bandwidth_names[index])) {
      return false;
    }
    if (const auto& information = prepared.media_information[index]; information) {
      m->m_information = su_strdup(home, information->c_str());
    }
  }
  return true;
}

std::optional<Parsed> parse(std::string_view sdp, std::string& why) {
  auto prepared = prepare(sdp, why);
  if (!prepared) {
    return std::nullopt;
  }
  Parsed out;
  out.home.reset(static_cast<su_home_t*>(su_home_new(sizeof(su_home_t))));
  if (!out.home) {
    why = "sdp: out of memory";
    return std::nullopt;
  }
  out.parser.reset(sdp_parse(out.home.get(), prepared->text.data(),
                             static_cast<issize_t>(prepared->text.size()), parse_flags));
  out.session = sdp_session(out.parser.get());
  if (out.session == nullptr) {
    const char* reason = out.parser ? sdp_parsing_error(out.parser.get()) : nullptr;
    why = std::string("sdp: ") + (reason != nullptr ? reason : "unparseable");
    return std::nullopt;
  }
  if (out.session->sdp_origin == nullptr) {
    why = "sdp: no o= line";
    return std::nullopt;
  }
  const std::size_t media = count_media(out.session);
  if (media == 0) {
    why = "sdp: no m= line";
    return std::nullopt;
  }
  if (media != prepared->media_count ||
      !restore_lost_fields(out.home.get(), out.session, *prepared)) {
    why = "sdp: lines lost while parsing";
    return std::nullopt;
  }
  out.kept = std::move(prepared->kept);
  if (!detail::note_kept_rtpmaps(out.home.get(), out.session, out.kept)) {
    why = "sdp: out of memory";
    return std::nullopt;
  }
  for (const sdp_media_t* m = out.session->sdp_media; m != nullptr; m = m->m_next) {
    if (m->m_port > 65535) {
      why = "sdp: m= port " + std::to_string(m->m_port) + " out of range";
      return std::nullopt;
    }
    const sdp_connection_t* c = stream_connection(m, out.session);
    if (m->m_port != 0 && (c == nullptr || c->c_address == nullptr || *c->c_address == '\0')) {
      why = "sdp: no connection address for m= line with a port";
      return std::nullopt;
    }
  }
  return out;
}

const sdp_attribute_t* find_last(const sdp_attribute_t* a, std::string_view name) {
  const sdp_attribute_t* found = nullptr;
  for (; a != nullptr; a = a->a_next) {
    if (a->a_name != nullptr && iequals(a->a_name, name)) {
      found = a;
    }
  }
  return found;
}

bool is_direction(std::string_view name) {
  return iequals(name, "sendrecv") || iequals(name, "sendonly") || iequals(name, "recvonly") ||
         iequals(name, "inactive");
}

std::string direction_in(const sdp_attribute_t* a) {
  std::string found;
  for (; a != nullptr; a = a->a_next) {
    if (a->a_name != nullptr && is_direction(a->a_name)) {
      found = a->a_name;
    }
  }
  for (char& c : found) {
    c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  }
  return found;
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end == text.data() || value == 0 || value > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

// The port of a=rtcp:<port> [IN IP4 <address>], or nullopt when absent or malformed.
std::optional<std::uint16_t> rtcp_attribute_port(const sdp_attribute_t* a) {
  const sdp_attribute_t* rtcp = find_last(a, "rtcp");
  if (rtcp == nullptr || rtcp->a_value == nullptr) {
    return std::nullopt;
  }
  const auto words = split_blanks(rtcp->a_value);
  return words.empty() ? std::nullopt : parse_port(words[0]);
}

bool is_hold_zero(const sdp_connection_t* c) {
  return c != nullptr && c->c_addrtype == sdp_addr_ip4 && c->c_address != nullptr &&
         std::strcmp(c->c_address, "0.0.0.0") == 0;
}

// RFC 1123 host name: dot-separated labels of letters, digits and '-' (not at either end), the last
// one not all digits (so that "300.1.2.3" is no name), at most 253 characters.
bool is_host_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') {
    name.remove_suffix(1);
  }
  if (name.empty() || name.size() > 253) {
    return false;
  }
  bool last_numeric = true;
  for (std::size_t start = 0; start <= name.size();) {
    const std::size_t end = std::min(name.find('.', start), name.size());
    const std::string_view label = name.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    last_numeric = true;
    for (const char c : label) {
      const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      if (!alpha && !is_digit(c) && c != '-') {
        return false;
      }
      last_numeric = last_numeric && is_digit(c);
    }
    start = end + 1;
  }
  return !last_numeric;
}

AddressKind address_kind(const sdp_connection_t* c) {
  if (c == nullptr || c->c_address == nullptr || *c->c_address == '\0') {
    return AddressKind::none;
  }
  unsigned char buf[16];
  if (c->c_nettype != sdp_net_in ||
      (c->c_addrtype != sdp_addr_ip4 && c->c_addrtype != sdp_addr_ip6)) {
    return AddressKind::invalid;
  }
  const bool v6 = c->c_addrtype == sdp_addr_ip6;
  if (inet_pton(v6 ? AF_INET6 : AF_INET, c->c_address, buf) == 1) {
    return v6 ? AddressKind::ip6 : AddressKind::ip4;
  }
  return is_host_name(c->c_address) ? AddressKind::host_name : AddressKind::invalid;
}

SdpStream describe_stream(const sdp_media_t* m, const sdp_session_t* s) {
  SdpStream out;
  out.media = m->m_type_name != nullptr ? m->m_type_name : "";
  out.protocol = m->m_proto_name != nullptr ? m->m_proto_name : "";
  if (const sdp_connection_t* c = stream_connection(m, s);
      c != nullptr && c->c_address != nullptr) {
    out.address = c->c_address;
    out.ipv6 = c->c_addrtype == sdp_addr_ip6;
    out.hold_zero_address = is_hold_zero(c);
    out.address_kind = address_kind(c);
  }
  out.port = static_cast<std::uint16_t>(m->m_port);
  if (out.port != 0) {
    out.rtcp_port = rtcp_attribute_port(m->m_attributes)
                        .value_or(static_cast<std::uint16_t>(out.port == 65535 ? 0 : out.port + 1));
  }
  out.rtcp_mux = find_last(m->m_attributes, "rtcp-mux") != nullptr;
  out.direction = direction_in(m->m_attributes);
  if (out.direction.empty()) {
    out.direction = direction_in(s->sdp_attributes);
  }
  if (out.direction.empty()) {
    out.direction = "sendrecv";
  }
  detail::describe_telephone_event(m, out);
  return out;
}

// ---- rewriting ----

struct OurAddress {
  const char* text;  // in the parse's home
  sdp_addrtype_e type;
};

std::optional<OurAddress> our_address(su_home_t* home, const std::string& address) {
  unsigned char buf[16];
  const bool v6 = address.find(':') != std::string::npos;
  if (address.empty() || inet_pton(v6 ? AF_INET6 : AF_INET, address.c_str(), buf) != 1) {
    return std::nullopt;
  }
  const char* text = su_strdup(home, address.c_str());
  if (text == nullptr) {
    return std::nullopt;
  }
  return OurAddress{text, v6 ? sdp_addr_ip6 : sdp_addr_ip4};
}

void point_at_us(sdp_connection_t* c, const OurAddress& us) {
  if (c == nullptr || is_hold_zero(c)) {
    return;
  }
  c->c_nettype = sdp_net_in;
  c->c_addrtype = us.type;
  c->c_address = us.text;
  c->c_ttl = 0;
  c->c_mcast = 0;
  c->c_groups = 1;
}

bool is_ice(std::string_view name) {
  static constexpr std::string_view names[] = {
      "candidate",         "ice-ufrag",         "ice-pwd",  "ice-options",
      "end-of-candidates", "remote-candidates", "ice-lite", "ice-mismatch"};
  for (const auto n : names) {
    if (iequals(name, n)) {
      return true;
    }
  }
  return false;
}

void remove_attributes(sdp_attribute_t** list, bool (*drop)(std::string_view)) {
  while (*list != nullptr) {
    if ((*list)->a_name != nullptr && drop((*list)->a_name)) {
      *list = (*list)->a_next;
    } else {
      list = &(*list)->a_next;
    }
  }
}

bool is_rtcp(std::string_view name) {
  return iequals(name, "rtcp");
}

// a=rtcp: rewritten in place (first one), added at the end when RTCP is not on port+1, removed
// when unusable. `port` is the stream's new port.
bool rewrite_rtcp(su_home_t* home, sdp_media_t* m, std::uint16_t port, std::uint16_t rtcp_local,
                  const OurAddress& us) {
  sdp_attribute_t* first = nullptr;
  for (sdp_attribute_t* a = m->m_attributes; a != nullptr; a = a->a_next) {
    if (a->a_name != nullptr && is_rtcp(a->a_name)) {
      first = a;
      break;
    }
  }
  const bool mux = find_last(m->m_attributes, "rtcp-mux") != nullptr;
  const unsigned rtcp = rtcp_local != 0 ? rtcp_local : port + 1u;
  if (port == 0 || mux || rtcp > 65535 || (first == nullptr && rtcp == port + 1u)) {
    remove_attributes(&m->m_attributes, is_rtcp);
    return true;
  }
  std::string value = std::to_string(rtcp);
  if (first != nullptr && first->a_value != nullptr && split_blanks(first->a_value).size() > 1) {
    value += us.type == sdp_addr_ip6 ? " IN IP6 " : " IN IP4 ";
    value += us.text;
  }
  sdp_attribute_t* keep = first;
  if (keep == nullptr) {
    keep = static_cast<sdp_attribute_t*>(su_salloc(home, sizeof(sdp_attribute_t)));
    if (keep == nullptr) {
      return false;
    }
    keep->a_name = "rtcp";
    sdp_attribute_t** tail = &m->m_attributes;
    while (*tail != nullptr) {
      tail = &(*tail)->a_next;
    }
    *tail = keep;
  }
  keep->a_value = su_strdup(home, value.c_str());
  remove_attributes(&keep->a_next, is_rtcp);
  return keep->a_value != nullptr;
}

bool rewrite_media(su_home_t* home, sdp_media_t* m, const LocalStream& local,
                   const OurAddress& us) {
  const auto port = static_cast<std::uint16_t>(m->m_port == 0 ? 0 : local.port);
  m->m_port = port;
  m->m_number_of_ports = 0;
  if (m->m_connections != nullptr) {
    m->m_connections->c_next = nullptr;
    point_at_us(m->m_connections, us);
  }
  remove_attributes(&m->m_attributes, is_ice);
  if (port != 0 && !detail::edit_telephone_event(home, m, local.te)) {
    return false;
  }
  return rewrite_rtcp(home, m, port, port == 0 ? 0 : local.rtcp_port, us);
}

// s= and t= are mandatory (RFC 4566); sofia accepts their absence and then prints none.
bool supply_mandatory_lines(su_home_t* home, sdp_session_t* s) {
  if (s->sdp_subject == nullptr || *s->sdp_subject == '\0') {
    s->sdp_subject = "-";
  }
  if (s->sdp_time == nullptr) {
    s->sdp_time = static_cast<sdp_time_t*>(su_salloc(home, sizeof(sdp_time_t)));
  }
  return s->sdp_time != nullptr;
}

// o=b2bua <id> <version> IN IP4|IP6 <our address>; nullptr when out of memory.
sdp_origin_t* replace_origin(su_home_t* home, sdp_session_t* s, const OurAddress& us,
                             std::uint64_t id, std::uint64_t version) {
  auto* origin = static_cast<sdp_origin_t*>(su_salloc(home, sizeof(sdp_origin_t)));
  auto* address = static_cast<sdp_connection_t*>(su_salloc(home, sizeof(sdp_connection_t)));
  if (origin == nullptr || address == nullptr) {
    return nullptr;
  }
  address->c_nettype = sdp_net_in;
  address->c_addrtype = us.type;
  address->c_address = us.text;
  origin->o_username = "b2bua";
  origin->o_id = id;
  origin->o_version = version;
  origin->o_address = address;
  s->sdp_origin = origin;
  return origin;
}

std::optional<std::uint64_t> parse_session_id(const std::string& text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

// The SDP text of `parsed`, with the lines kept away from sofia back in their places.
std::optional<std::string> print(const Parsed& parsed, std::string& why) {
  PrinterPtr printer(sdp_print(parsed.home.get(), parsed.session, nullptr, 0, print_flags));
  const char* message = sdp_message(printer.get());
  if (message == nullptr) {
    const char* reason = sdp_printing_error(printer.get());
    why = std::string("sdp: cannot print: ") + (reason != nullptr ? reason : "unknown error");
    return std::nullopt;
  }
  const std::string_view text(message, sdp_message_size(printer.get()));
  return parsed.kept.empty() ? std::string(text) : detail::restore_kept(text, parsed.kept);
}

std::optional<std::string> rewrite(std::string_view sdp, const std::string& address,
                                   const std::vector<LocalStream>& local, SdpOriginState& state,
                                   std::string& why) {
  auto parsed = parse(sdp, why);
  if (!parsed) {
    return std::nullopt;
  }
  su_home_t* home = parsed->home.get();
  sdp_session_t* s = parsed->session;
  const auto us = our_address(home, address);
  if (!us) {
    why = "sdp: local address \"" + address.substr(0, 64) + "\" is not an IPv4 or IPv6 literal";
    return std::nullopt;
  }
  if (local.size() < count_media(s)) {
    why = "sdp: " + std::to_string(count_media(s)) + " m= lines but " +
          std::to_string(local.size()) + " local streams";
    return std::nullopt;
  }
  SdpOriginState next = state;
  if (!next.initialised && next.session_id.empty()) {
    next.session_id = std::to_string(s->sdp_origin->o_id);
  }
  const auto session_id = parse_session_id(next.session_id);
  if (!session_id) {
    why = "sdp: origin session id of the leg is not a 64-bit decimal number";
    return std::nullopt;
  }

  point_at_us(s->sdp_connection, us.value());
  remove_attributes(&s->sdp_attributes, is_ice);
  std::size_t index = 0;
  for (sdp_media_t* m = s->sdp_media; m != nullptr; m = m->m_next, ++index) {
    if (!rewrite_media(home, m, local[index], *us)) {
      why = "sdp: out of memory";
      return std::nullopt;
    }
  }
  sdp_origin_t* origin = replace_origin(home, s, *us, *session_id, next.version);
  if (origin == nullptr || !supply_mandatory_lines(home, s)) {
    why = "sdp: out of memory";
    return std::nullopt;
  }

  detail::drop_orphan_rtpmaps(s, parsed->kept);
  auto body = print(*parsed, why);
  if (body && next.initialised && *body != next.last_body) {
    origin->o_version = ++next.version;
    body = print(*parsed, why);
  }
  if (!body) {
    return std::nullopt;
  }
  next.initialised = true;
  next.last_body = *body;
  state = std::move(next);
  return body;
}

}  // namespace

std::optional<SdpInfo> parse_sdp(std::string_view sdp, std::string* error) noexcept {
  try {
    std::string why;
    auto parsed = parse(sdp, why);
    if (!parsed) {
      set_error(error, why);
      return std::nullopt;
    }
    SdpInfo info;
    const sdp_session_t* s = parsed->session;
    info.origin_session_id = std::to_string(s->sdp_origin->o_id);
    info.origin_version = s->sdp_origin->o_version;
    for (const sdp_media_t* m = s->sdp_media; m != nullptr; m = m->m_next) {
      info.streams.push_back(describe_stream(m, s));
    }
    return info;
  } catch (...) {
    set_error(error, "sdp: internal error (out of memory?)");
    return std::nullopt;
  }
}

std::optional<std::string> rewrite_sdp(std::string_view sdp, const std::string& address,
                                       const std::vector<LocalStream>& local, SdpOriginState& state,
                                       std::string* error) noexcept {
  try {
    std::string why;
    auto body = rewrite(sdp, address, local, state, why);
    if (!body) {
      set_error(error, why);
    }
    return body;
  } catch (...) {
    set_error(error, "sdp: internal error (out of memory?)");
    return std::nullopt;
  }
}

}  // namespace b2bua::rtp
