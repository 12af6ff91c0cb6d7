#include "raftkit/util/bytes.h"

#include <algorithm>

namespace raftkit {
namespace {

// Above this size a std::string is taken over rather than copied (the copy would cost more than
// the second allocation it saves).
constexpr size_t kAdoptAbove = 4096;

}  // namespace

Bytes::Bytes(std::string_view s) : size_(s.size()) {
  // One allocation for the reference count and the bytes (entries are decoded by the thousand).
  std::shared_ptr<char[]> block =
      std::make_shared_for_overwrite<char[]>(std::max<size_t>(1, size_));
  char* data = block.get();
  std::copy(s.begin(), s.end(), data);
  buf_ = std::shared_ptr<const char>(std::move(block), data);
}

Bytes::Bytes(std::string s) : size_(s.size()) {
  if (size_ <= kAdoptAbove) {
    *this = Bytes(std::string_view(s));
    return;
  }
  auto owner = std::make_shared<const std::string>(std::move(s));
  const char* data = owner->data();
  buf_ = std::shared_ptr<const char>(std::move(owner), data);
}

Bytes Bytes::Empty() {
  // One shared empty buffer: "present but empty" fields are common (heartbeat contexts).
  static const Bytes kEmpty{std::string_view()};
  return kEmpty;
}

}  // namespace raftkit
