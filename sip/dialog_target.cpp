// Rules for a dialog's remote target and route set (see dialog_target.hpp).
#include "sip/dialog_target.hpp"

#include <arpa/inet.h>

#include <cctype>
#include <string>

namespace b2bua::sip {

namespace {

bool valid_host_name(std::string_view host) {
  if (host.empty() || host.size() > 253) {
    return false;
  }
  std::size_t label = 0;
  for (char c : host) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '.') {
      if (label == 0) {
        return false;
      }
      label = 0;
      continue;
    }
    if (!std::isalnum(u) && c != '-' && c != '_') {
      return false;
    }
    if (++label > 63) {
      return false;
    }
  }
  return true;
}

bool valid_host(std::string_view host) { return is_ip_literal(host) || valid_host_name(host); }

bool valid_port(const char* port) {
  if (!port) {
    return true;
  }
  std::string_view p(port);
  if (p.empty() || p.size() > 5) {
    return false;
  }
  unsigned v = 0;
  for (char c : p) {
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      return false;
    }
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  return v >= 1 && v <= 65535;
}

// The value of `name` among a URI's parameters (";"-separated, case-insensitive name), if any.
bool find_param(const char* params, std::string_view name, std::string& value) {
  if (!params) {
    return false;
  }
  std::string_view all(params);
  while (!all.empty()) {
    std::size_t end = all.find(';');
    std::string_view p = all.substr(0, end);
    all = end == std::string_view::npos ? std::string_view() : all.substr(end + 1);
    if (p.size() > name.size() && p[name.size()] == '=') {
      bool same = true;
      for (std::size_t i = 0; i < name.size() && same; ++i) {
        same = std::tolower(static_cast<unsigned char>(p[i])) == name[i];
      }
      if (same) {
        value.assign(p.substr(name.size() + 1));
        return true;
      }
    }
  }
  return false;
}

// The host a request to `url` goes to: its maddr parameter when present, else its host.
std::string hop_host(const url_t* url) {
  std::string maddr;
  if (find_param(url->url_params, "maddr", maddr)) {
    return maddr;
  }
  return url->url_host ? std::string(url->url_host) : std::string();
}

std::optional<b2bua::Refusal> refusal_for(UriProblem p, bool contact) {
  if (p == UriProblem::none) {
    return std::nullopt;
  }
  if (!contact) {
    return b2bua::Refusal::sip_bad_record_route;
  }
  return p == UriProblem::missing ? b2bua::Refusal::sip_missing_contact
                                  : b2bua::Refusal::sip_bad_contact;
}

}  // namespace

bool is_ip_literal(std::string_view host) {
  std::string h(host);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') {
    h = h.substr(1, h.size() - 2);
  }
  unsigned char buf[16];
  return inet_pton(AF_INET, h.c_str(), buf) == 1 || inet_pton(AF_INET6, h.c_str(), buf) == 1;
}

UriProblem check_request_uri(const url_t* url) {
  if (!url) {
    return UriProblem::missing;
  }
  if (url->url_type != url_sip && url->url_type != url_sips) {
    return UriProblem::not_sip;
  }
  if (!url->url_host || !*url->url_host) {
    return UriProblem::no_host;
  }
  if (!valid_host(url->url_host)) {
    return UriProblem::bad_host;
  }
  std::string maddr;
  if (find_param(url->url_params, "maddr", maddr) && !valid_host(maddr)) {
    return UriProblem::bad_host;
  }
  if (!valid_port(url->url_port)) {
    return UriProblem::bad_port;
  }
  if (url->url_headers && *url->url_headers) {
    return UriProblem::headers;
  }
  return UriProblem::none;
}

TargetCheck check_dialog_target(const sip_contact_t* contact, const sip_record_route_t* rr,
                                bool uac, bool contact_required) {
  TargetCheck out;
  if (!contact) {
    if (contact_required) {
      out.problem = UriProblem::missing;
      out.refusal = refusal_for(out.problem, true);
    }
    return out;
  }
  out.problem = contact->m_next ? UriProblem::not_sip : check_request_uri(contact->m_url);
  if (!out.ok()) {
    out.refusal = refusal_for(out.problem, true);
    return out;
  }
  const url_t* first_hop = contact->m_url;
  for (const sip_record_route_t* r = rr; r; r = r->r_next) {
    out.problem = check_request_uri(r->r_url);
    if (!out.ok()) {
      out.refusal = refusal_for(out.problem, false);
      return out;
    }
    // A UAS's route set is the Record-Route list in order (its first entry is the first hop); a
    // UAC's is the list reversed (the last entry is).
    if (uac || r == rr) {
      first_hop = r->r_url;
    }
  }
  out.needs_lookup = !is_ip_literal(hop_host(first_hop));
  return out;
}

std::string source_uri(std::string_view ip, unsigned port, bool tcp) {
  std::string host(ip);
  if (host.find(':') != std::string::npos && host.front() != '[') {
    host = "[" + host + "]";
  }
  return "sip:" + host + ":" + std::to_string(port) + (tcp ? ";transport=tcp" : ";transport=udp");
}

std::string next_hop_uri(const url_t* url) {
  if (!url || !url->url_host || !*url->url_host) {
    return {};
  }
  std::string out = url->url_type == url_sips ? "sips:" : "sip:";
  out += url->url_host;
  if (url->url_port && *url->url_port) {
    out += ":";
    out += url->url_port;
  }
  std::string value;
  if (find_param(url->url_params, "transport", value)) {
    out += ";transport=" + value;
  }
  if (find_param(url->url_params, "maddr", value)) {
    out += ";maddr=" + value;
  }
  return out;
}

}  // namespace b2bua::sip
