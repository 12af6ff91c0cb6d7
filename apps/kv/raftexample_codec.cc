#include "raftexample_codec.h"

#include <cstdint>

#include <nlohmann/json.hpp>

namespace raftkit::kv {
namespace {

// Gob's unsigned integer: below 128 one byte; otherwise the negated count of the big-endian bytes
// that follow (without leading zeros).
void PutUint(std::string* out, uint64_t v) {
  if (v < 128) {
    out->push_back(static_cast<char>(v));
    return;
  }
  int n = 0;
  for (uint64_t x = v; x != 0; x >>= 8)
    ++n;
  out->push_back(static_cast<char>(-n));
  for (int i = n - 1; i >= 0; --i)
    out->push_back(static_cast<char>(v >> (8 * i)));
}

// Gob's signed integer: the sign in the low bit of an unsigned one (complemented when negative).
void PutInt(std::string* out, int64_t v) {
  const uint64_t u = v < 0 ? (~static_cast<uint64_t>(v) << 1) | 1 : static_cast<uint64_t>(v) << 1;
  PutUint(out, u);
}

bool TakeUint(std::string_view* in, uint64_t* v) {
  if (in->empty()) return false;
  const auto b = static_cast<uint8_t>((*in)[0]);
  in->remove_prefix(1);
  if (b < 128) {
    *v = b;
    return true;
  }
  const int n = -static_cast<int8_t>(b);
  if (n < 1 || n > 8 || in->size() < static_cast<size_t>(n)) return false;
  uint64_t x = 0;
  for (int i = 0; i < n; ++i)
    x = (x << 8) | static_cast<uint8_t>((*in)[static_cast<size_t>(i)]);
  in->remove_prefix(static_cast<size_t>(n));
  *v = x;
  return true;
}

bool TakeInt(std::string_view* in, int64_t* v) {
  uint64_t u = 0;
  if (!TakeUint(in, &u)) return false;
  *v = (u & 1) != 0 ? static_cast<int64_t>(~(u >> 1)) : static_cast<int64_t>(u >> 1);
  return true;
}

// The type id raftexample's kv gets in a process that registers no other gob type first (Go
// numbers user types from 65); any id works, since the definition travels with the value.
constexpr int64_t kKvTypeId = 65;

// The definition of struct kv {Key string; Val string} (a wireType holding a structType), as the
// payload after the negative type id: field 3 (StructT) { CommonType {Name "kv", Id 65},
// Field [{Name "Key", Id 12 (string)}, {Name "Val", Id 12}] }.
std::string KvTypeDefinition() {
  std::string p;
  p.push_back(3);  // wireType field delta: StructT is its 3rd field
  p.push_back(1);  // structType: CommonType
  p.push_back(1);  //   CommonType: Name
  PutUint(&p, 2);
  p += "kv";
  p.push_back(1);  //   CommonType: Id
  PutInt(&p, kKvTypeId);
  p.push_back(0);  //   end of CommonType
  p.push_back(1);  // structType: Field (a slice of 2 fieldType)
  PutUint(&p, 2);
  for (const char* name : {"Key", "Val"}) {
    p.push_back(1);  // fieldType: Name
    PutUint(&p, 3);
    p += name;
    p.push_back(1);  // fieldType: Id (string is predefined type 6, sent as the int 12)
    PutInt(&p, 6);
    p.push_back(0);  // end of fieldType
  }
  p.push_back(0);  // end of structType
  p.push_back(0);  // end of wireType
  return p;
}

void PutMessage(std::string* out, int64_t type_id, const std::string& payload) {
  std::string id;
  PutInt(&id, type_id);
  PutUint(out, id.size() + payload.size());
  out->append(id);
  out->append(payload);
}

}  // namespace

std::string EncodeRaftexampleKv(std::string_view key, std::string_view val) {
  std::string out;
  PutMessage(&out, -kKvTypeId, KvTypeDefinition());
  // The value: fields by delta from the previous one; empty strings are not sent.
  std::string v;
  int64_t last = -1;
  const std::string_view fields[2] = {key, val};
  for (int64_t f = 0; f < 2; ++f) {
    if (fields[f].empty()) continue;
    PutUint(&v, static_cast<uint64_t>(f - last));
    PutUint(&v, fields[f].size());
    v.append(fields[f]);
    last = f;
  }
  v.push_back(0);
  PutMessage(&out, kKvTypeId, v);
  return out;
}

Result<std::pair<std::string, std::string>> DecodeRaftexampleKv(std::string_view data) {
  const Status bad(ErrorCode::kCorruption, "not a raftexample kv (gob)");
  int64_t defined = 0;  // the type id the stream defined for kv
  while (!data.empty()) {
    uint64_t len = 0;
    if (!TakeUint(&data, &len) || len > data.size()) return bad;
    std::string_view msg = data.substr(0, len);
    data.remove_prefix(len);
    int64_t type = 0;
    if (!TakeInt(&msg, &type)) return bad;
    if (type < 0) {
      // A definition. raftexample's stream defines kv only; the fields are Key then Val.
      if (defined != 0) return bad;
      defined = -type;
      continue;
    }
    if (type != defined || defined == 0) return bad;
    std::pair<std::string, std::string> out;
    int64_t field = -1;
    for (;;) {
      uint64_t delta = 0;
      if (!TakeUint(&msg, &delta)) return bad;
      if (delta == 0) break;
      field += static_cast<int64_t>(delta);
      if (field > 1) return bad;
      uint64_t n = 0;
      if (!TakeUint(&msg, &n) || n > msg.size()) return bad;
      (field == 0 ? out.first : out.second) = std::string(msg.substr(0, n));
      msg.remove_prefix(n);
    }
    if (!msg.empty() || !data.empty()) return bad;
    return out;
  }
  return bad;
}

std::string EncodeRaftexampleSnapshot(const std::map<std::string, std::string>& kv) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : kv)
    j[k] = v;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<std::map<std::string, std::string>> DecodeRaftexampleSnapshot(std::string_view data) {
  auto j = nlohmann::json::parse(data, nullptr, false);
  // Go's json.Marshal of a nil map is "null".
  if (j.is_null() && !j.is_discarded()) return std::map<std::string, std::string>{};
  if (!j.is_object())
    return Status(ErrorCode::kCorruption, "raftexample snapshot is not a JSON object");
  std::map<std::string, std::string> out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_string()) {
      return Status(ErrorCode::kCorruption, "raftexample snapshot value is not a string");
    }
    out.emplace(it.key(), it.value().get<std::string>());
  }
  return out;
}

}  // namespace raftkit::kv
