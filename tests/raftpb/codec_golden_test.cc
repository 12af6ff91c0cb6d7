// The raftpb codec against etcd's own Go code.
//
// tests/raftpb/testdata/golden_vectors.txt was produced by tests/interop/golden/gen_golden.go with
// etcd 3.4's generated Marshal/Unmarshal (scripts/gen_golden.sh regenerates it; the file header
// documents the format). For every vector this test decodes Go's bytes with raftkit, renders the
// decoded value with the same canonical description the generator uses (every field, nil vs
// empty bytes, unknown-field bytes) and compares it with Go's, then re-encodes and compares the
// bytes with Go's encoding. Go is not needed at test time.
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include "raftkit/raftpb/codec.h"
#include "raftkit/raftpb/types.h"
#include "raftkit/util/bytes.h"
#include "raftkit/util/status.h"
#include "testlib/hex.h"

#ifndef RAFTKIT_TEST_SOURCE_DIR
#error "RAFTKIT_TEST_SOURCE_DIR must be defined by tests/raftpb/CMakeLists.txt"
#endif

namespace raftkit::raftpb {
namespace {

constexpr std::string_view kRelativePath = "tests/raftpb/testdata/golden_vectors.txt";

const std::vector<std::string>& AllKinds() {
  static const std::vector<std::string> kKinds = {
      "Entry",     "ConfState",  "SnapshotMetadata", "Snapshot",    "Message",
      "HardState", "ConfChange", "ConfChangeSingle", "ConfChangeV2"};
  return kKinds;
}

// ---------------------------------------------------------------------------------------------
// Hex
// ---------------------------------------------------------------------------------------------

std::string Hex(std::string_view bytes) {
  return raftkit::testing::ToHex(bytes);
}

// "-" is zero bytes. Returns false on anything but lowercase hex digit pairs.
bool Unhex(std::string_view hex, std::string* out) {
  if (hex == "-") {
    out->clear();
    return true;
  }
  return !hex.empty() && raftkit::testing::FromHex(hex, out);
}

// ---------------------------------------------------------------------------------------------
// Canonical description, identical to gen_golden.go's describe().
// ---------------------------------------------------------------------------------------------

std::string Nullable(const Bytes& b) {
  return b.is_null() ? "nil" : "h'" + Hex(b.view()) + "'";
}
std::string Raw(const Bytes& b) {
  return "h'" + Hex(b.view()) + "'";
}

std::string Ids(const std::vector<NodeId>& ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i != 0) out += ' ';
    out += fmt::format("{}", ids[i].value());
  }
  return out + "]";
}

template <class E>
int32_t Int(E e) {
  return static_cast<int32_t>(e);
}

std::string Render(const Entry& e) {
  return fmt::format("Entry{{Type:{} Term:{} Index:{} Data:{} Unknown:{}}}", Int(e.type),
                     e.term.value(), e.index.value(), Nullable(e.data), Raw(e.unknown_fields));
}

std::string Render(const ConfState& cs) {
  return fmt::format(
      "ConfState{{Voters:{} Learners:{} VotersOutgoing:{} LearnersNext:{} AutoLeave:{} "
      "Unknown:{}}}",
      Ids(cs.voters), Ids(cs.learners), Ids(cs.voters_outgoing), Ids(cs.learners_next),
      cs.auto_leave, Raw(cs.unknown_fields));
}

std::string Render(const SnapshotMetadata& m) {
  return fmt::format("SnapshotMetadata{{ConfState:{} Index:{} Term:{} Unknown:{}}}",
                     Render(m.conf_state), m.index.value(), m.term.value(), Raw(m.unknown_fields));
}

std::string Render(const Snapshot& s) {
  return fmt::format("Snapshot{{Data:{} Metadata:{} Unknown:{}}}", Nullable(s.data),
                     Render(s.metadata), Raw(s.unknown_fields));
}

std::string Render(const Message& m) {
  std::string entries;
  for (size_t i = 0; i < m.entries.size(); ++i) {
    if (i != 0) entries += ' ';
    entries += Render(m.entries[i]);
  }
  return fmt::format(
      "Message{{Type:{} To:{} From:{} Term:{} LogTerm:{} Index:{} Entries:[{}] Commit:{} "
      "Snapshot:{} Reject:{} RejectHint:{} Context:{} Unknown:{}}}",
      Int(m.type), m.to.value(), m.from.value(), m.term.value(), m.log_term.value(),
      m.index.value(), entries, m.commit.value(), Render(m.snapshot), m.reject,
      m.reject_hint.value(), Nullable(m.context), Raw(m.unknown_fields));
}

std::string Render(const HardState& hs) {
  return fmt::format("HardState{{Term:{} Vote:{} Commit:{} Unknown:{}}}", hs.term.value(),
                     hs.vote.value(), hs.commit.value(), Raw(hs.unknown_fields));
}

std::string Render(const ConfChange& cc) {
  return fmt::format("ConfChange{{ID:{} Type:{} NodeID:{} Context:{} Unknown:{}}}", cc.id,
                     Int(cc.type), cc.node_id.value(), Nullable(cc.context),
                     Raw(cc.unknown_fields));
}

std::string Render(const ConfChangeSingle& c) {
  return fmt::format("ConfChangeSingle{{Type:{} NodeID:{} Unknown:{}}}", Int(c.type),
                     c.node_id.value(), Raw(c.unknown_fields));
}

std::string Render(const ConfChangeV2& cc) {
  std::string changes;
  for (size_t i = 0; i < cc.changes.size(); ++i) {
    if (i != 0) changes += ' ';
    changes += Render(cc.changes[i]);
  }
  return fmt::format("ConfChangeV2{{Transition:{} Changes:[{}] Context:{} Unknown:{}}}",
                     Int(cc.transition), changes, Nullable(cc.context), Raw(cc.unknown_fields));
}

// ---------------------------------------------------------------------------------------------
// Running one input through raftkit
// ---------------------------------------------------------------------------------------------

// What raftkit makes of one input.
struct Outcome {
  Status status;                         ///< the decode error, if any
  std::string description;               ///< canonical description of the decoded value
  std::string encoded;                   ///< raftkit's encoding of the decoded value
  std::vector<std::string> size_errors;  ///< size functions that disagree with Encode()
};

void CheckSizes(const Entry& e, std::vector<std::string>* errors) {
  const size_t actual = Encode(e).size();
  if (e.ByteSize() != actual) {
    errors->push_back(fmt::format("Entry::ByteSize() = {} but Encode(entry).size() = {} for {}",
                                  e.ByteSize(), actual, Render(e)));
  }
}

void CheckSizes(const Message& m, std::vector<std::string>* errors) {
  const size_t actual = Encode(m).size();
  if (EncodedSize(m) != actual) {
    errors->push_back(
        fmt::format("EncodedSize(msg) = {} but Encode(msg).size() = {}", EncodedSize(m), actual));
  }
  for (const Entry& e : m.entries)
    CheckSizes(e, errors);
}

template <class T>
void CheckSizes(const T& /*value*/, std::vector<std::string>* /*errors*/) {}

template <class T>
Outcome Run(Result<T> (*decode)(std::string_view), std::string_view input) {
  Outcome out;
  Result<T> r = decode(input);
  if (!r.ok()) {
    out.status = r.status();
    return out;
  }
  out.description = Render(*r);
  out.encoded = Encode(*r);
  CheckSizes(*r, &out.size_errors);
  return out;
}

using Runner = std::function<Outcome(std::string_view)>;

const std::map<std::string, Runner>& Runners() {
  static const std::map<std::string, Runner> kRunners = {
      {"Entry", [](std::string_view b) { return Run(&DecodeEntry, b); }},
      {"ConfState", [](std::string_view b) { return Run(&DecodeConfState, b); }},
      {"SnapshotMetadata", [](std::string_view b) { return Run(&DecodeSnapshotMetadata, b); }},
      {"Snapshot", [](std::string_view b) { return Run(&DecodeSnapshot, b); }},
      {"Message", [](std::string_view b) { return Run(&DecodeMessage, b); }},
      {"HardState", [](std::string_view b) { return Run(&DecodeHardState, b); }},
      {"ConfChange", [](std::string_view b) { return Run(&DecodeConfChange, b); }},
      {"ConfChangeSingle", [](std::string_view b) { return Run(&DecodeConfChangeSingle, b); }},
      {"ConfChangeV2", [](std::string_view b) { return Run(&DecodeConfChangeV2, b); }},
  };
  return kRunners;
}

// ---------------------------------------------------------------------------------------------
// The vector file
// ---------------------------------------------------------------------------------------------

struct Vector {
  std::string dir;     ///< "enc", "dec" or "err"
  std::string kind;    ///< e.g. "Message"
  std::string name;    ///< the case name
  std::string input;   ///< raw bytes fed to raftkit's decoder
  std::string go_out;  ///< Go's encoding of the decoded value (enc: == input; err: empty)
  std::string text;    ///< the canonical description (enc/dec) or Go's error (err)
  int line = 0;
  std::string test_name;  ///< unique GoogleTest parameter name
};

// How GoogleTest prints a vector in failure messages.
void PrintTo(const Vector& v, std::ostream* os) {
  *os << v.dir << ' ' << v.kind << ' ' << v.name << " (line " << v.line << ")";
}

struct VectorFile {
  std::string path;
  bool found = false;
  std::vector<Vector> vectors;
  std::vector<std::string> problems;  ///< malformed lines, duplicates
};

std::string GoldenPath() {
  if (const char* dir = std::getenv("RAFTKIT_SOURCE_DIR"); dir != nullptr && *dir != '\0') {
    std::string path = fmt::format("{}/{}", dir, kRelativePath);
    if (std::ifstream(path).good()) return path;
  }
  return fmt::format("{}/{}", RAFTKIT_TEST_SOURCE_DIR, kRelativePath);
}

// Splits off the next space-separated token of `*rest`.
std::string_view NextToken(std::string_view* rest) {
  const size_t sp = rest->find(' ');
  std::string_view tok = rest->substr(0, sp);
  *rest = sp == std::string_view::npos ? std::string_view() : rest->substr(sp + 1);
  return tok;
}

bool ParseLine(std::string_view line, Vector* v, std::string* problem) {
  std::string_view rest = line;
  v->dir = std::string(NextToken(&rest));
  v->kind = std::string(NextToken(&rest));
  v->name = std::string(NextToken(&rest));
  if (v->dir != "enc" && v->dir != "dec" && v->dir != "err") {
    *problem = fmt::format("unknown line type '{}'", v->dir);
    return false;
  }
  if (Runners().count(v->kind) == 0) {
    *problem = fmt::format("unknown kind '{}'", v->kind);
    return false;
  }
  if (v->name.empty()) {
    *problem = "missing case name";
    return false;
  }
  for (char c : v->name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) {
      *problem = fmt::format("case name '{}' is not [A-Za-z0-9_]+", v->name);
      return false;
    }
  }
  if (!Unhex(NextToken(&rest), &v->input)) {
    *problem = "bad input hex";
    return false;
  }
  if (v->dir == "dec") {
    if (!Unhex(NextToken(&rest), &v->go_out)) {
      *problem = "bad Go output hex";
      return false;
    }
  } else if (v->dir == "enc") {
    v->go_out = v->input;
  }
  v->text = std::string(rest);
  if (v->text.empty()) {
    *problem = "missing description";
    return false;
  }
  return true;
}

VectorFile LoadVectorFile() {
  VectorFile f;
  f.path = GoldenPath();
  std::ifstream in(f.path);
  if (!in) return f;
  f.found = true;
  std::set<std::string> names;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty() || line[0] == '#') continue;
    Vector v;
    v.line = n;
    std::string problem;
    if (!ParseLine(line, &v, &problem)) {
      f.problems.push_back(fmt::format("line {}: {}", n, problem));
      continue;
    }
    v.test_name = fmt::format("{}_{}_{}", v.dir, v.kind, v.name);
    if (!names.insert(v.kind + " " + v.name).second) {
      f.problems.push_back(fmt::format("line {}: duplicate case {} {}", n, v.kind, v.name));
      v.test_name += fmt::format("_line{}", n);  // keep GoogleTest names unique regardless
    }
    f.vectors.push_back(std::move(v));
  }
  return f;
}

const VectorFile& Golden() {
  static const VectorFile kFile = LoadVectorFile();
  return kFile;
}

std::vector<Vector> AllVectors() {
  return Golden().vectors;
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

TEST(CodecGoldenFile, LoadsAndParses) {
  const VectorFile& f = Golden();
  ASSERT_TRUE(f.found) << "cannot read " << f.path << " (regenerate it with scripts/gen_golden.sh)";
  EXPECT_TRUE(f.problems.empty()) << fmt::format("{}:\n  {}", f.path,
                                                 fmt::join(f.problems, "\n  "));
  EXPECT_GE(f.vectors.size(), 200u) << "the golden set shrank";
}

class GoldenVector : public ::testing::TestWithParam<Vector> {};

TEST_P(GoldenVector, MatchesGo) {
  const Vector& v = GetParam();
  SCOPED_TRACE(fmt::format("{} line {}: {} {} {} input {}", Golden().path, v.line, v.dir, v.kind,
                           v.name, v.input.empty() ? "-" : Hex(v.input)));
  const Runner& run = Runners().at(v.kind);
  const Outcome got = run(v.input);

  if (v.dir == "err") {
    EXPECT_FALSE(got.status.ok()) << "Go rejects this input (" << v.text
                                  << ") but raftkit decodes it as " << got.description;
    EXPECT_EQ(got.status.code(), ErrorCode::kCorruption) << got.status.ToString();
    return;
  }

  ASSERT_TRUE(got.status.ok()) << "Go decodes this input, raftkit fails: " << got.status.ToString();
  EXPECT_EQ(got.description, v.text) << "decoded value differs from Go's";
  EXPECT_EQ(Hex(got.encoded), Hex(v.go_out)) << "re-encoding differs from Go's Marshal()";
  EXPECT_TRUE(got.size_errors.empty()) << fmt::format("{}", fmt::join(got.size_errors, "\n"));

  if (v.dir == "dec") {
    // Go's canonical re-encoding must also decode to the same value and stay byte-stable.
    const Outcome again = run(v.go_out);
    ASSERT_TRUE(again.status.ok()) << again.status.ToString();
    EXPECT_EQ(again.description, v.text);
    EXPECT_EQ(Hex(again.encoded), Hex(v.go_out));
    EXPECT_TRUE(again.size_errors.empty()) << fmt::format("{}", fmt::join(again.size_errors, "\n"));
  }
}

std::string VectorTestName(const ::testing::TestParamInfo<Vector>& param) {
  return param.param.test_name;
}

INSTANTIATE_TEST_SUITE_P(Go, GoldenVector, ::testing::ValuesIn(AllVectors()), VectorTestName);

// ---------------------------------------------------------------------------------------------
// Coverage: the vector set must keep covering what it covers today.
// ---------------------------------------------------------------------------------------------

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
constexpr uint64_t kPow63 = uint64_t{1} << 63;

// Everything observed in the decoded `enc` and `dec` vectors.
struct Coverage {
  std::map<std::string, std::set<int32_t>> enums;     // "MessageType" -> values seen
  std::map<std::string, std::set<uint64_t>> numbers;  // "Message.To" -> interesting values seen
  std::set<std::string> flags;                        // named situations seen

  void Number(const std::string& field, uint64_t v) {
    if (v == kMax || v == kPow63 || v == 0) numbers[field].insert(v);
  }
  void Nullness(const std::string& field, const Bytes& b) {
    flags.insert(field + (b.is_null() ? ":nil" : b.empty() ? ":empty" : ":data"));
  }

  void Walk(const Entry& e) {
    enums["EntryType"].insert(Int(e.type));
    Number("Entry.Term", e.term.value());
    Number("Entry.Index", e.index.value());
    Nullness("Entry.Data", e.data);
    if (!e.unknown_fields.empty()) flags.insert("Entry.unknown");
  }
  void Walk(const ConfState& cs) {
    for (NodeId id : cs.voters)
      Number("ConfState.Voters", id.value());
    for (NodeId id : cs.learners)
      Number("ConfState.Learners", id.value());
    for (NodeId id : cs.voters_outgoing)
      Number("ConfState.VotersOutgoing", id.value());
    for (NodeId id : cs.learners_next)
      Number("ConfState.LearnersNext", id.value());
    if (!cs.voters.empty() && !cs.learners.empty() && !cs.voters_outgoing.empty() &&
        !cs.learners_next.empty() && cs.auto_leave) {
      flags.insert("ConfState.full");
    }
  }
  void Walk(const SnapshotMetadata& m) {
    Walk(m.conf_state);
    Number("SnapshotMetadata.Index", m.index.value());
    Number("SnapshotMetadata.Term", m.term.value());
  }
  void Walk(const Snapshot& s) {
    Walk(s.metadata);
    Nullness("Snapshot.Data", s.data);
  }
  void Walk(const Message& m) {
    enums["MessageType"].insert(Int(m.type));
    Number("Message.To", m.to.value());
    Number("Message.From", m.from.value());
    Number("Message.Term", m.term.value());
    Number("Message.LogTerm", m.log_term.value());
    Number("Message.Index", m.index.value());
    Number("Message.Commit", m.commit.value());
    Number("Message.RejectHint", m.reject_hint.value());
    for (const Entry& e : m.entries)
      Walk(e);
    Walk(m.snapshot);
    Nullness("Message.Context", m.context);
    if (m.entries.size() >= 3) flags.insert("Message.several_entries");
    if (m.type == MessageType::MsgSnap && !m.snapshot.data.empty() &&
        !m.snapshot.metadata.conf_state.voters.empty() &&
        !m.snapshot.metadata.conf_state.learners.empty() &&
        !m.snapshot.metadata.conf_state.voters_outgoing.empty() &&
        !m.snapshot.metadata.conf_state.learners_next.empty() &&
        m.snapshot.metadata.conf_state.auto_leave) {
      flags.insert("Message.msgsnap_full");
    }
    if (!m.unknown_fields.empty()) flags.insert("Message.unknown");
  }
  void Walk(const HardState& hs) {
    Number("HardState.Term", hs.term.value());
    Number("HardState.Vote", hs.vote.value());
    Number("HardState.Commit", hs.commit.value());
  }
  void Walk(const ConfChange& cc) {
    enums["ConfChangeType"].insert(Int(cc.type));
    Number("ConfChange.ID", cc.id);
    Number("ConfChange.NodeID", cc.node_id.value());
    Nullness("ConfChange.Context", cc.context);
  }
  void Walk(const ConfChangeSingle& c) {
    enums["ConfChangeType"].insert(Int(c.type));
    Number("ConfChangeSingle.NodeID", c.node_id.value());
  }
  void Walk(const ConfChangeV2& cc) {
    enums["ConfChangeTransition"].insert(Int(cc.transition));
    for (const ConfChangeSingle& c : cc.changes)
      Walk(c);
    Nullness("ConfChangeV2.Context", cc.context);
    if (cc.changes.size() >= 3) flags.insert("ConfChangeV2.several_changes");
  }

  template <class T>
  void Decode(Result<T> (*decode)(std::string_view), std::string_view bytes) {
    Result<T> r = decode(bytes);
    if (r.ok()) Walk(*r);
  }

  void Add(const Vector& v) {
    const std::string& k = v.kind;
    if (k == "Entry") Decode(&DecodeEntry, v.input);
    if (k == "ConfState") Decode(&DecodeConfState, v.input);
    if (k == "SnapshotMetadata") Decode(&DecodeSnapshotMetadata, v.input);
    if (k == "Snapshot") Decode(&DecodeSnapshot, v.input);
    if (k == "Message") Decode(&DecodeMessage, v.input);
    if (k == "HardState") Decode(&DecodeHardState, v.input);
    if (k == "ConfChange") Decode(&DecodeConfChange, v.input);
    if (k == "ConfChangeSingle") Decode(&DecodeConfChangeSingle, v.input);
    if (k == "ConfChangeV2") Decode(&DecodeConfChangeV2, v.input);
  }
};

// Whether `values` has every value in [lo, hi] and at least one outside it.
void ExpectEnumCoverage(const Coverage& c, const std::string& name, int32_t lo, int32_t hi) {
  SCOPED_TRACE(name);
  ASSERT_EQ(c.enums.count(name), 1u);
  const std::set<int32_t>& seen = c.enums.at(name);
  for (int32_t v = lo; v <= hi; ++v)
    EXPECT_EQ(seen.count(v), 1u) << "value " << v << " missing";
  bool out_of_range = false;
  for (int32_t v : seen)
    out_of_range = out_of_range || v < lo || v > hi;
  EXPECT_TRUE(out_of_range) << "no out-of-range value";
}

TEST(CodecGoldenFile, CoversEveryEnumValueKindAndEdgeCase) {
  const VectorFile& f = Golden();
  ASSERT_TRUE(f.found) << f.path;

  Coverage enc;  // what Go encoded from values it built
  std::map<std::string, std::map<std::string, int>> per_kind;  // kind -> dir -> count
  int dec_differs = 0;
  for (const Vector& v : f.vectors) {
    per_kind[v.kind][v.dir]++;
    if (v.dir == "enc") enc.Add(v);
    if (v.dir == "dec" && v.input != v.go_out) ++dec_differs;
  }

  // Every Kind has values encoded by Go, decode-direction inputs and rejected inputs.
  for (const std::string& kind : AllKinds()) {
    SCOPED_TRACE(kind);
    EXPECT_GE(per_kind[kind]["enc"], 1);
    EXPECT_GE(per_kind[kind]["dec"], 1);
    EXPECT_GE(per_kind[kind]["err"], 1);
  }
  EXPECT_GE(dec_differs, 20) << "decode vectors whose Go re-encoding differs from the input";

  // Every enum value, plus one out of range, was encoded by Go.
  ExpectEnumCoverage(enc, "MessageType", 0, 18);
  ExpectEnumCoverage(enc, "EntryType", 0, 2);
  ExpectEnumCoverage(enc, "ConfChangeType", 0, 3);
  ExpectEnumCoverage(enc, "ConfChangeTransition", 0, 2);

  // Zero, 2^63 and 2^64-1 in every integer field.
  for (const char* field : {"Entry.Term",
                            "Entry.Index",
                            "ConfState.Voters",
                            "ConfState.Learners",
                            "ConfState.VotersOutgoing",
                            "ConfState.LearnersNext",
                            "SnapshotMetadata.Index",
                            "SnapshotMetadata.Term",
                            "Message.To",
                            "Message.From",
                            "Message.Term",
                            "Message.LogTerm",
                            "Message.Index",
                            "Message.Commit",
                            "Message.RejectHint",
                            "HardState.Term",
                            "HardState.Vote",
                            "HardState.Commit",
                            "ConfChange.ID",
                            "ConfChange.NodeID",
                            "ConfChangeSingle.NodeID"}) {
    SCOPED_TRACE(field);
    const std::set<uint64_t>& seen = enc.numbers[field];
    EXPECT_EQ(seen.count(kMax), 1u) << "2^64-1 missing";
    EXPECT_EQ(seen.count(kPow63), 1u) << "2^63 missing";
    EXPECT_EQ(seen.count(0), 1u) << "0 missing";
  }

  // nil, present-but-empty and non-empty for every nullable bytes field.
  for (const char* field : {"Entry.Data", "Snapshot.Data", "Message.Context", "ConfChange.Context",
                            "ConfChangeV2.Context"}) {
    for (const char* state : {":nil", ":empty", ":data"}) {
      EXPECT_EQ(enc.flags.count(std::string(field) + state), 1u) << field << state;
    }
  }
  for (const char* flag : {"Message.several_entries", "Message.msgsnap_full", "ConfState.full",
                           "ConfChangeV2.several_changes"}) {
    EXPECT_EQ(enc.flags.count(flag), 1u) << flag;
  }

  // Decode direction: unknown fields at the top level and inside a nested entry, packed
  // ConfState input, and the 2-byte message.
  Coverage dec;
  for (const Vector& v : f.vectors) {
    if (v.dir == "dec") dec.Add(v);
  }
  EXPECT_EQ(dec.flags.count("Message.unknown"), 1u);
  EXPECT_EQ(dec.flags.count("Entry.unknown"), 1u);
  bool packed = false;
  bool two_bytes = false;
  for (const Vector& v : f.vectors) {
    if (v.dir != "dec") continue;
    // Field 1 of ConfState with wire type 2 (0x0a) at the start: a packed voters list.
    if (v.kind == "ConfState" && !v.input.empty() && v.input[0] == '\x0a') packed = true;
    if (v.kind == "Message" && v.input == std::string_view("\x08\x08", 2)) two_bytes = true;
  }
  EXPECT_TRUE(packed) << "no packed ConfState input";
  EXPECT_TRUE(two_bytes) << "no 2-byte message 08 08";
}

}  // namespace
}  // namespace raftkit::raftpb
