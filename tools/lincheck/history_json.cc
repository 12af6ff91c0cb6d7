#include "history_json.h"

#include <array>
#include <cstdint>
#include <fstream>
#include <limits>
#include <optional>
#include <set>
#include <vector>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace raftkit::lincheck {
namespace {

// Written with ordered_json so that fields come out in the documented order; read with json, whose
// member order does not matter.
using OrderedJson = nlohmann::ordered_json;
using Json = nlohmann::json;

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF. This is the
// set nlohmann's dump accepts, so a string passing here never makes dump throw, and the same set
// its parser accepts, so what is written as a string reads back as the same bytes.
bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    unsigned char lo = 0x80;  // bounds of the second byte, which rule out overlongs and surrogates
    unsigned char hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      len = 3;
      if (b0 == 0xE0) lo = 0xA0;
      if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      len = 4;
      if (b0 == 0xF0) lo = 0x90;
      if (b0 == 0xF4) hi = 0x8F;
    } else {
      return false;  // a continuation byte first, C0/C1 (always overlong), or F5..FF
    }
    if (s.size() - i < len) return false;
    const auto b1 = static_cast<unsigned char>(s[i + 1]);
    if (b1 < lo || b1 > hi) return false;
    for (size_t k = 2; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if (b < 0x80 || b > 0xBF) return false;
    }
    i += len;
  }
  return true;
}

std::string Base64Encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << 16 |
                       static_cast<uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8 |
                       static_cast<uint32_t>(static_cast<unsigned char>(in[i + 2]));
    out += kBase64Alphabet[(v >> 18) & 63];
    out += kBase64Alphabet[(v >> 12) & 63];
    out += kBase64Alphabet[(v >> 6) & 63];
    out += kBase64Alphabet[v & 63];
  }
  const size_t rest = in.size() - i;
  if (rest > 0) {
    uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << 16;
    if (rest == 2) v |= static_cast<uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
    out += kBase64Alphabet[(v >> 18) & 63];
    out += kBase64Alphabet[(v >> 12) & 63];
    out += rest == 2 ? kBase64Alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// Only the canonical encoding is accepted (padding to a multiple of 4, zero bits after the last
// byte), so every accepted text decodes to one byte string and encodes back to itself.
std::optional<std::string> Base64Decode(std::string_view in) {
  if (in.size() % 4 != 0) return std::nullopt;
  std::array<int, 256> sextet{};
  sextet.fill(-1);
  for (size_t k = 0; k < kBase64Alphabet.size(); ++k)
    sextet[static_cast<unsigned char>(kBase64Alphabet[k])] = static_cast<int>(k);
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (size_t i = 0; i < in.size(); i += 4) {
    const bool last = i + 4 == in.size();
    size_t pad = 0;
    if (last && in[i + 3] == '=') pad = in[i + 2] == '=' ? 2 : 1;
    uint32_t v = 0;
    for (size_t k = 0; k < 4; ++k) {
      int d = 0;
      if (k < 4 - pad) {
        d = sextet[static_cast<unsigned char>(in[i + k])];
        if (d < 0) return std::nullopt;  // not in the alphabet, or '=' before the end
      }
      v = v << 6 | static_cast<uint32_t>(d);
    }
    out += static_cast<char>((v >> 16) & 0xFF);
    if (pad < 2) out += static_cast<char>((v >> 8) & 0xFF);
    if (pad < 1) out += static_cast<char>(v & 0xFF);
    if ((pad == 1 && (v & 0xFF) != 0) || (pad == 2 && (v & 0xFFFF) != 0)) return std::nullopt;
  }
  return out;
}

OrderedJson BytesToJson(const std::string& bytes) {
  if (IsValidUtf8(bytes)) return bytes;
  return OrderedJson{{"base64", Base64Encode(bytes)}};
}

OrderedJson ValueToJson(const Value& v) {
  return v ? BytesToJson(*v) : OrderedJson(nullptr);
}

const char* KindName(OpKind kind) {
  switch (kind) {
    case OpKind::kRead:
      return "read";
    case OpKind::kWrite:
      return "write";
    case OpKind::kCas:
      return "cas";
  }
  return "read";
}

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kOk:
      return "ok";
    case Outcome::kFail:
      return "fail";
    case Outcome::kInfo:
      return "info";
  }
  return "info";
}

// Reads one line's fields into an Operation; every error is a message without the line number,
// which the caller adds.
class LineReader {
 public:
  explicit LineReader(const Json& object) : object_(object) {}

  Result<Operation> Read() {
    static const std::set<std::string> kKnown = {"process", "key",  "f",      "value",
                                                 "new",     "type", "invoke", "complete"};
    for (const auto& [name, unused] : object_.items()) {
      if (kKnown.count(name) == 0) return Error(fmt::format("unknown field \"{}\"", name));
    }
    Operation op;
    RAFTKIT_RETURN_IF_ERROR(Int("process", op.client));
    RAFTKIT_RETURN_IF_ERROR(Kind(op.kind));
    RAFTKIT_RETURN_IF_ERROR(OutcomeField(op.outcome));
    const Json* key = Field("key");
    if (key == nullptr) return Missing("key");
    if (key->is_null()) return Error("\"key\" must be a string or a {\"base64\": ...} object");
    RAFTKIT_RETURN_IF_ERROR(Bytes("key", *key, op.key));
    RAFTKIT_RETURN_IF_ERROR(ValueField("value", op.value));
    if (op.kind == OpKind::kCas) {
      RAFTKIT_RETURN_IF_ERROR(ValueField("new", op.new_value));
    } else if (Field("new") != nullptr) {
      return Error(fmt::format("\"new\" is only for cas, not {}", KindName(op.kind)));
    }
    RAFTKIT_RETURN_IF_ERROR(Int("invoke", op.invoke_time));
    if (op.outcome == Outcome::kInfo && Field("complete") == nullptr) {
      op.complete_time = kOpenEnded;  // the writer omits it exactly then
    } else {
      RAFTKIT_RETURN_IF_ERROR(Int("complete", op.complete_time));
    }
    if (op.outcome != Outcome::kInfo && op.complete_time < op.invoke_time) {
      return Error(fmt::format("\"complete\" ({}) is before \"invoke\" ({})", op.complete_time,
                               op.invoke_time));
    }
    return op;
  }

 private:
  static Status Error(std::string what) {
    return Status(ErrorCode::kInvalidArgument, std::move(what));
  }
  static Status Missing(std::string_view name) {
    return Error(fmt::format("missing field \"{}\"", name));
  }

  const Json* Field(const char* name) const {
    auto it = object_.find(name);
    return it == object_.end() ? nullptr : &*it;
  }

  Status Int(const char* name, int64_t& out) const {
    const Json* j = Field(name);
    if (j == nullptr) return Missing(name);
    // Unsigned integers above int64's range and any fraction or exponent are refused, not rounded.
    if (!j->is_number_integer() ||
        (j->is_number_unsigned() &&
         j->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))) {
      return Error(
          fmt::format("\"{}\" must be an integer in int64 range, not {}", name, j->dump()));
    }
    out = j->get<int64_t>();
    return Status::Ok();
  }

  Status Kind(OpKind& out) const {
    const Json* j = Field("f");
    if (j == nullptr) return Missing("f");
    const std::string s = j->is_string() ? j->get<std::string>() : std::string();
    if (s == "read") {
      out = OpKind::kRead;
    } else if (s == "write") {
      out = OpKind::kWrite;
    } else if (s == "cas") {
      out = OpKind::kCas;
    } else {
      return Error(fmt::format("\"f\" must be \"read\", \"write\" or \"cas\", not {}", j->dump()));
    }
    return Status::Ok();
  }

  Status OutcomeField(Outcome& out) const {
    const Json* j = Field("type");
    if (j == nullptr) return Missing("type");
    const std::string s = j->is_string() ? j->get<std::string>() : std::string();
    if (s == "ok") {
      out = Outcome::kOk;
    } else if (s == "fail") {
      out = Outcome::kFail;
    } else if (s == "info") {
      out = Outcome::kInfo;
    } else {
      return Error(fmt::format("\"type\" must be \"ok\", \"fail\" or \"info\", not {}", j->dump()));
    }
    return Status::Ok();
  }

  Status ValueField(const char* name, Value& out) const {
    const Json* j = Field(name);
    if (j == nullptr) return Missing(name);
    if (j->is_null()) {
      out = std::nullopt;
      return Status::Ok();
    }
    std::string bytes;
    RAFTKIT_RETURN_IF_ERROR(Bytes(name, *j, bytes));
    out = std::move(bytes);
    return Status::Ok();
  }

  static Status Bytes(const char* name, const Json& j, std::string& out) {
    if (j.is_string()) {
      out = j.get<std::string>();
      return Status::Ok();
    }
    if (j.is_object() && j.size() == 1 && j.contains("base64") && j.at("base64").is_string()) {
      auto decoded = Base64Decode(j.at("base64").get<std::string>());
      if (!decoded) {
        return Error(fmt::format("\"{}\" holds invalid base64 (standard alphabet, padded): {}",
                                 name, j.dump()));
      }
      out = std::move(*decoded);
      return Status::Ok();
    }
    return Error(
        fmt::format("\"{}\" must be a string, a {{\"base64\": \"...\"}} object or null, not {}",
                    name, j.dump()));
  }

  const Json& object_;
};

// Parses one JSON object, refusing a member name given twice at any depth (nlohmann would keep the
// last silently, and a history must not mean two things).
Result<Json> ParseObject(std::string_view line) {
  std::vector<std::set<std::string>> names;  // names[d]: the member names of the object at depth d
  std::string duplicate;
  Json::parser_callback_t callback = [&](int depth, Json::parse_event_t event, Json& parsed) {
    const auto d = static_cast<size_t>(depth);
    if (event == Json::parse_event_t::object_start) {
      if (names.size() < d + 2) names.resize(d + 2);
      names[d + 1].clear();
    } else if (event == Json::parse_event_t::key) {
      if (names.size() < d + 1) names.resize(d + 1);
      if (!names[d].insert(parsed.get<std::string>()).second && duplicate.empty()) {
        duplicate = parsed.get<std::string>();
      }
    }
    return true;
  };
  Json j;
  try {
    j = Json::parse(line, callback);
  } catch (const Json::parse_error& e) {
    // e.what() reads "[json.exception.parse_error.101] parse error at line 1, column 7: ...".
    // The id means nothing to a reader and nlohmann's "line 1" would contradict ours: keep the
    // column and the reason.
    std::string what = e.what();
    if (const size_t at = what.find("] "); at != std::string::npos) what = what.substr(at + 2);
    if (const size_t at = what.find("at line 1, column"); at != std::string::npos) {
      what.replace(at, std::string_view("at line 1, column").size(), "at column");
    }
    return Status(ErrorCode::kInvalidArgument, fmt::format("not valid JSON: {}", what));
  }
  if (!duplicate.empty()) {
    return Status(ErrorCode::kInvalidArgument, fmt::format("field \"{}\" given twice", duplicate));
  }
  if (!j.is_object()) {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("expected a JSON object, not {}", j.type_name()));
  }
  return j;
}

bool IsBlankOrComment(std::string_view line) {
  const size_t first = line.find_first_not_of(" \t\r");
  return first == std::string_view::npos || line[first] == '#';
}

}  // namespace

std::string OperationToJson(const Operation& op) {
  OrderedJson j;
  j["process"] = op.client;
  j["key"] = BytesToJson(op.key);
  j["f"] = KindName(op.kind);
  j["value"] = ValueToJson(op.value);
  if (op.kind == OpKind::kCas) j["new"] = ValueToJson(op.new_value);
  j["type"] = OutcomeName(op.outcome);
  j["invoke"] = op.invoke_time;
  if (op.outcome != Outcome::kInfo || op.complete_time != kOpenEnded) {
    j["complete"] = op.complete_time;
  }
  // Every string in j is valid UTF-8 (BytesToJson), so the default strict dump cannot throw.
  return j.dump();
}

Status WriteHistoryJsonl(const History& history, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Status(ErrorCode::kIoError, fmt::format("cannot create {}", path));
  for (const Operation& op : history.ops)
    out << OperationToJson(op) << '\n';
  out.close();
  if (out.fail()) return Status(ErrorCode::kIoError, fmt::format("cannot write {}", path));
  return Status::Ok();
}

Result<History> ParseHistoryJsonl(std::string_view text) {
  History history;
  LineCursor lines(text);
  std::string_view line;
  while (lines.Next(&line)) {
    if (IsBlankOrComment(line)) continue;
    auto with_line = [&](const Status& s) {
      return Status(s.code(), fmt::format("line {}: {}", lines.line_no(), s.message()));
    };
    auto object = ParseObject(line);
    if (!object.ok()) return with_line(object.status());
    auto op = LineReader(*object).Read();
    if (!op.ok()) return with_line(op.status());
    history.ops.push_back(std::move(*op));
  }
  return history;
}

Result<History> ReadHistoryJsonl(const std::string& path) {
  auto text = ReadWholeFile(path);
  if (!text.ok()) return text.status();
  auto history = ParseHistoryJsonl(*text);
  if (!history.ok()) {
    return Status(history.code(), fmt::format("{}: {}", path, history.status().message()));
  }
  return history;
}

bool LooksLikeJsonl(std::string_view path, std::string_view text) {
  constexpr std::string_view kExtension = ".jsonl";
  if (path.size() >= kExtension.size() &&
      path.substr(path.size() - kExtension.size()) == kExtension) {
    return true;
  }
  LineCursor lines(text);
  std::string_view line;
  while (lines.Next(&line)) {
    if (IsBlankOrComment(line)) continue;
    return line[line.find_first_not_of(" \t\r")] == '{';
  }
  return false;
}

}  // namespace raftkit::lincheck
