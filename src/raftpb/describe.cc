#include "raftkit/raftpb/describe.h"

#include <cstdint>
#include <utility>

#include <fmt/format.h>

#include "raftkit/raftpb/codec.h"

namespace raftkit::raftpb {

namespace {

// Decodes one UTF-8 sequence at data[i]; returns the code point and its length, or length 0 when
// the bytes are not valid UTF-8 (overlong forms, surrogates and values past U+10FFFF included).
std::pair<uint32_t, size_t> DecodeUtf8(std::string_view data, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(data[i + k]); };
  const size_t left = data.size() - i;
  const unsigned char c = b(0);
  auto cont = [&](size_t k) { return k < left && (b(k) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF && cont(1)) return {((c & 0x1Fu) << 6) | (b(1) & 0x3Fu), 2};
  if (c >= 0xE0 && c <= 0xEF && cont(1) && cont(2)) {
    const uint32_t r = ((c & 0x0Fu) << 12) | ((b(1) & 0x3Fu) << 6) | (b(2) & 0x3Fu);
    if (r < 0x800 || (r >= 0xD800 && r <= 0xDFFF)) return {0, 0};
    return {r, 3};
  }
  if (c >= 0xF0 && c <= 0xF4 && cont(1) && cont(2) && cont(3)) {
    const uint32_t r =
        ((c & 0x07u) << 18) | ((b(1) & 0x3Fu) << 12) | ((b(2) & 0x3Fu) << 6) | (b(3) & 0x3Fu);
    if (r < 0x10000 || r > 0x10FFFF) return {0, 0};
    return {r, 4};
  }
  return {0, 0};
}

// Go's unicode.IsPrint for non-ASCII code points, approximated without Unicode tables: control,
// format, separator (other than ASCII space), private-use and non-character code points are not
// printable; everything else is. Unassigned code points therefore print as themselves.
bool IsPrintable(uint32_t r) {
  if (r >= 0x80 && r <= 0xA0) return false;  // C1 controls and NO-BREAK SPACE
  if (r == 0xAD) return false;               // SOFT HYPHEN (format)
  if (r == 0x061C || r == 0x180E) return false;
  if ((r >= 0x2000 && r <= 0x200F) || (r >= 0x2028 && r <= 0x202F) ||
      (r >= 0x205F && r <= 0x206F) || r == 0x3000 || r == 0xFEFF) {
    return false;  // spaces, line/paragraph separators, bidi and other format characters
  }
  if (r >= 0xE000 && r <= 0xF8FF) return false;  // private use
  if (r >= 0xFFF9 && r <= 0xFFFB) return false;  // interlinear annotation (format)
  if ((r & 0xFFFE) == 0xFFFE) return false;      // non-characters U+xxFFFE / U+xxFFFF
  if (r >= 0xF0000) return false;                // supplementary private use planes
  return true;
}

}  // namespace

std::string QuoteBytes(std::string_view data) {
  // Go's strconv.Quote (the %q verb) over bytes.
  std::string out = "\"";
  size_t i = 0;
  while (i < data.size()) {
    const auto c = static_cast<unsigned char>(data[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\a':
          out += "\\a";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\v':
          out += "\\v";
          break;
        default:
          if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
          } else {
            out += fmt::format("\\x{:02x}", c);
          }
      }
      ++i;
      continue;
    }
    auto [r, len] = DecodeUtf8(data, i);
    if (len == 0) {
      out += fmt::format("\\x{:02x}", c);  // invalid UTF-8: one byte at a time
      ++i;
    } else if (IsPrintable(r)) {
      out.append(data.substr(i, len));
      i += len;
    } else if (r < 0x10000) {
      out += fmt::format("\\u{:04x}", r);
      i += len;
    } else {
      out += fmt::format("\\U{:08x}", r);
      i += len;
    }
  }
  out += '"';
  return out;
}

std::string DescribeEntry(const Entry& e, const EntryFormatter& f) {
  std::string formatted;
  switch (e.type) {
    case EntryType::EntryNormal:
      formatted = f ? f(e.data) : QuoteBytes(e.data.view());
      break;
    case EntryType::EntryConfChange: {
      auto cc = DecodeConfChange(e.data.view());
      formatted =
          cc.ok() ? ConfChangesToString(ConfChangeV2::FromV1(*cc).changes) : cc.status().ToString();
      break;
    }
    case EntryType::EntryConfChangeV2: {
      auto cc = DecodeConfChangeV2(e.data.view());
      formatted = cc.ok() ? ConfChangesToString(cc->changes) : cc.status().ToString();
      break;
    }
    default:
      break;
  }
  if (!formatted.empty()) formatted.insert(0, " ");
  return fmt::format("{}/{} {}{}", e.term, e.index, Name(e.type), formatted);
}

std::string DescribeEntries(const std::vector<Entry>& ents, const EntryFormatter& f) {
  std::string out;
  for (const Entry& e : ents) {
    out += DescribeEntry(e, f);
    out += '\n';
  }
  return out;
}

std::string DescribeMessage(const Message& m, const EntryFormatter& f) {
  std::string out = fmt::format("{:x}->{:x} {} Term:{} Log:{}/{}", m.from, m.to, Name(m.type),
                                m.term, m.log_term, m.index);
  if (m.reject) out += fmt::format(" Rejected (Hint: {})", m.reject_hint);
  if (m.commit != Index(0)) out += fmt::format(" Commit:{}", m.commit);
  if (!m.entries.empty()) {
    out += " Entries:[";
    for (size_t i = 0; i < m.entries.size(); ++i) {
      if (i != 0) out += ", ";
      out += DescribeEntry(m.entries[i], f);
    }
    out += "]";
  }
  if (!m.snapshot.IsEmpty()) out += " Snapshot: " + DescribeSnapshot(m.snapshot);
  return out;
}

std::string DescribeHardState(const HardState& hs) {
  std::string out = fmt::format("Term:{}", hs.term);
  if (hs.vote != kNoNode) out += fmt::format(" Vote:{}", hs.vote);
  out += fmt::format(" Commit:{}", hs.commit);
  return out;
}

namespace {
std::string IdList(const std::vector<NodeId>& ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i != 0) out += ' ';
    out += std::to_string(ids[i].value());
  }
  return out + "]";
}
}  // namespace

std::string DescribeConfState(const ConfState& cs) {
  return fmt::format("Voters:{} VotersOutgoing:{} Learners:{} LearnersNext:{} AutoLeave:{}",
                     IdList(cs.voters), IdList(cs.voters_outgoing), IdList(cs.learners),
                     IdList(cs.learners_next), cs.auto_leave);
}

std::string DescribeSnapshot(const Snapshot& s) {
  return fmt::format("Index:{} Term:{} ConfState:{}", s.metadata.index, s.metadata.term,
                     DescribeConfState(s.metadata.conf_state));
}

}  // namespace raftkit::raftpb
