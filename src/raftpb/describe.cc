#include "raftkit/raftpb/describe.h"

#include <fmt/format.h>

#include "raftkit/raftpb/codec.h"

namespace raftkit::raftpb {

std::string QuoteBytes(std::string_view data) {
  std::string out = "\"";
  for (unsigned char c : data) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c >= 0x20 && c < 0x7f) {
          out += static_cast<char>(c);
        } else {
          out += fmt::format("\\x{:02x}", c);
        }
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
