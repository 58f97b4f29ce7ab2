// A working B2BUA: every call to this host's port 5060 is bridged to 127.0.0.1:5080.
#include "api/engine/simple_b2bua.hpp"

int main() {
  b2bua::SimpleB2bua b2b("simple-b2bua", 5060);
  b2b.on_route([](const std::string&, const std::string&) { return "sip:127.0.0.1:5080"; });
  b2b.run();
}
