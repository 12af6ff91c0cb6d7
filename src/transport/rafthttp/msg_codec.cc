#include "transport/rafthttp/msg_codec.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "raftkit/raftpb/codec.h"

namespace raftkit::rafthttp {

namespace {

// A field buffer that grew beyond this is released once its field is consumed, so that one large
// frame does not pin its size in memory for the life of the stream.
constexpr size_t kKeepCapacity = 64 * 1024;

}  // namespace

raftpb::Message LinkHeartbeatMessage() {
  raftpb::Message m;
  m.type = raftpb::MessageType::MsgHeartbeat;
  return m;
}

bool IsLinkHeartbeat(const raftpb::Message& m) noexcept {
  return m.type == raftpb::MessageType::MsgHeartbeat && m.from == kNoNode && m.to == kNoNode;
}

void AppendBE64(uint64_t v, std::string* out) {
  char b[8];
  for (int i = 7; i >= 0; --i) {
    b[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  out->append(b, sizeof b);
}

uint64_t ReadBE64(std::string_view bytes) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i)
    v = (v << 8) | static_cast<unsigned char>(bytes[i]);
  return v;
}

void MessageEncoder::Encode(const raftpb::Message& m, std::string* out) const {
  // etcd writes m.Size() and then the marshalled bytes; raftpb::Encode is byte-identical to Go's
  // Marshal, so its length is Size().
  const std::string body = raftpb::Encode(m);
  AppendBE64(body.size(), out);
  out->append(body);
}

void MessageEncoder::EncodeLinkHeartbeat(std::string* out) const {
  Encode(LinkHeartbeatMessage(), out);
}

namespace internal {

std::optional<std::string_view> FieldCollector::Take(std::string_view* in, size_t need) {
  if (buf_.empty() && in->size() >= need) {
    // The whole field is in this piece: no copy.
    std::string_view field = in->substr(0, need);
    in->remove_prefix(need);
    return field;
  }
  // Append only what arrived: a length prefix claiming 512 MiB costs nothing until the bytes come.
  const size_t n = std::min(need - buf_.size(), in->size());
  buf_.append(in->data(), n);
  in->remove_prefix(n);
  if (buf_.size() < need) return std::nullopt;
  return std::string_view(buf_);
}

void FieldCollector::Done() {
  if (buf_.capacity() > kKeepCapacity) {
    std::string().swap(buf_);
  } else {
    buf_.clear();
  }
}

}  // namespace internal

Status MessageDecoder::Fail(Status s) {
  status_ = std::move(s);
  length_.Done();
  body_.Done();
  return status_;
}

Status MessageDecoder::Feed(std::string_view bytes) {
  if (!status_.ok()) return status_;
  // Runs while there is input, or a complete length prefix whose body may already be complete (a
  // zero-length frame needs no body bytes: an all-default message decodes from nothing, in Go too).
  while (have_length_ || !bytes.empty()) {
    if (!have_length_) {
      std::optional<std::string_view> len = length_.Take(&bytes, 8);
      if (!len) break;
      frame_size_ = ReadBE64(*len);
      length_.Done();
      // etcd checks the prefix before reading the body (decodeLimit): an oversized frame ends the
      // stream without waiting for its bytes.
      if (frame_size_ > options_.max_frame_size) {
        return Fail(Status(ErrorCode::kCorruption,
                           fmt::format("{}: message frame of {} bytes (limit {})",
                                       kErrLimitExceeded, frame_size_, options_.max_frame_size)));
      }
      have_length_ = true;
    }
    std::optional<std::string_view> body = body_.Take(&bytes, frame_size_);
    if (!body) break;
    Result<raftpb::Message> m = raftpb::DecodeMessage(*body);
    body_.Done();
    have_length_ = false;
    if (!m.ok()) {
      return Fail(Status(ErrorCode::kCorruption,
                         fmt::format("rafthttp: bad message frame: {}", m.status().message())));
    }
    if (IsLinkHeartbeat(*m)) {
      ++link_heartbeats_;
      items_.emplace_back(LinkHeartbeat{});
    } else {
      items_.emplace_back(std::move(m).value());
    }
  }
  return status_;
}

std::optional<StreamItem> MessageDecoder::Next() {
  if (items_.empty()) return std::nullopt;
  StreamItem item = std::move(items_.front());
  items_.pop_front();
  return item;
}

}  // namespace raftkit::rafthttp
