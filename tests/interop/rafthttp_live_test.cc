// Live interoperability of raftkit's rafthttp Transport with etcd 3.4's own Go Transport.
//
// Each test runs one raftkit Transport in this process (served on an http::Server on 127.0.0.1)
// and one etcd Transport in a child process, tests/interop/rafthttp_peer/peer.go ("rafthttp-peer",
// built by CMake from Debian's golang-etcd-server-dev), driven through its stdin/stdout JSON-lines
// protocol (described at the top of peer.go). Cluster id 0x1000; raftkit is member 1 (3 in the
// removed-member tests), Go is member 2.
//
// What is proven, in both directions: every message type that travels between members arrives
// byte-identical (raftpb encodings compared); MsgApp rides the msgapp stream and the rest the
// message stream once both sides dialed; the pipeline carries messages before any stream is up;
// snapshots travel through /raft/snapshot (24 MiB, size and SHA-256 checked, ReportSnapshot on the
// sender) and inline on the pipeline; streams come back after the peer restarts on the same port;
// a removed member learns it from a 410 on its stream dial (critical error on either side).
//
// The two sides are in rafthttp_live_harness.h. Every wait is bounded (kWait, 20 s); the child is
// killed and reaped by PID and the temporary directory removed in every teardown path. Each
// scenario prints one "interop: ..." summary line to stdout.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <future>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "interop/rafthttp_live_harness.h"
#include "raftkit/raftpb/codec.h"
#include "raftkit/raftpb/types.h"
#include "raftkit/transport/rafthttp/transport.h"
#include "raftkit/util/bytes.h"
#include "raftkit/util/ids.h"
#include "raftkit/util/status.h"

#ifndef RAFTKIT_RAFTHTTP_PEER
#error "RAFTKIT_RAFTHTTP_PEER (the path of the rafthttp-peer Go program) must be defined"
#endif

namespace raftkit::rafthttp::interop {
namespace {

using namespace std::chrono_literals;
using raftpb::MessageType;

constexpr uint64_t kSnapshotBytes = uint64_t{24} << 20;

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

raftpb::Entry MakeEntry(uint64_t term, uint64_t index, std::string_view data) {
  raftpb::Entry e;
  e.term = Term(term);
  e.index = Index(index);
  e.data = Bytes(data);
  return e;
}

// One message of `type` with the fields that type carries in etcd, so that each encoding is
// distinctive. MsgApp carries no context or reject: the msgappv2 codec does not transport them.
raftpb::Message MakeMessage(MessageType type, uint64_t from, uint64_t to) {
  raftpb::Message m;
  m.type = type;
  m.from = NodeId(from);
  m.to = NodeId(to);
  m.term = Term(7);
  switch (type) {
    case MessageType::MsgApp:
      m.log_term = Term(6);
      m.index = Index(40);
      m.entries = {MakeEntry(7, 41, "first entry"), MakeEntry(7, 42, "")};
      m.commit = Index(41);
      break;
    case MessageType::MsgAppResp:
      m.index = Index(42);
      m.reject = true;
      m.reject_hint = Index(39);
      break;
    case MessageType::MsgVote:
    case MessageType::MsgPreVote:
      m.term = Term(8);
      m.log_term = Term(7);
      m.index = Index(42);
      m.context = Bytes("CampaignTransfer");
      break;
    case MessageType::MsgVoteResp:
    case MessageType::MsgPreVoteResp:
      m.term = Term(8);
      m.reject = type == MessageType::MsgPreVoteResp;
      break;
    case MessageType::MsgHeartbeat:
      m.commit = Index(42);
      m.context = Bytes("read-ctx-1");
      break;
    case MessageType::MsgHeartbeatResp:
      m.context = Bytes("read-ctx-1");
      break;
    case MessageType::MsgTransferLeader:
      m.term = Term(0);
      break;
    case MessageType::MsgTimeoutNow:
      break;
    case MessageType::MsgReadIndex:
      m.term = Term(0);
      m.entries = {MakeEntry(0, 0, "read-ctx-2")};
      break;
    case MessageType::MsgReadIndexResp:
      m.index = Index(42);
      m.entries = {MakeEntry(0, 0, "read-ctx-2")};
      break;
    case MessageType::MsgProp:
      m.term = Term(0);
      m.entries = {MakeEntry(0, 0, "put k v"), MakeEntry(0, 0, "put k2 v2")};
      break;
    case MessageType::MsgSnap:
      m.snapshot.data = Bytes("inline state machine bytes");
      m.snapshot.metadata.index = Index(100);
      m.snapshot.metadata.term = Term(6);
      m.snapshot.metadata.conf_state.voters = {NodeId(1), NodeId(2)};
      break;
    default:
      ADD_FAILURE() << "no test message for type " << static_cast<int>(type);
  }
  return m;
}

const std::vector<MessageType>& MemberMessageTypes() {
  static const std::vector<MessageType> kTypes = {
      MessageType::MsgApp,        MessageType::MsgAppResp,       MessageType::MsgVote,
      MessageType::MsgVoteResp,   MessageType::MsgPreVote,       MessageType::MsgPreVoteResp,
      MessageType::MsgHeartbeat,  MessageType::MsgHeartbeatResp, MessageType::MsgTransferLeader,
      MessageType::MsgTimeoutNow, MessageType::MsgReadIndex,     MessageType::MsgReadIndexResp,
      MessageType::MsgProp,       MessageType::MsgSnap};
  return kTypes;
}

// A MsgApp of one entry at `index` (term 1), as a leader streams them.
raftpb::Message Append(uint64_t from, uint64_t to, uint64_t index) {
  raftpb::Message m;
  m.type = MessageType::MsgApp;
  m.from = NodeId(from);
  m.to = NodeId(to);
  m.term = Term(1);
  m.log_term = Term(index > 1 ? 1 : 0);
  m.index = Index(index - 1);
  m.entries = {MakeEntry(1, index, "entry " + std::to_string(index))};
  m.commit = Index(index - 1);
  return m;
}

raftpb::Message Heartbeat(uint64_t from, uint64_t to, uint64_t commit) {
  raftpb::Message m;
  m.type = MessageType::MsgHeartbeat;
  m.from = NodeId(from);
  m.to = NodeId(to);
  m.term = Term(1);
  m.commit = Index(commit);
  return m;
}

// ---------------------------------------------------------------------------------------------
// Fixture
// ---------------------------------------------------------------------------------------------

class RafthttpLiveTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // A write to the peer's stdin after it died must fail with EPIPE, not kill the test.
    signal(SIGPIPE, SIG_IGN);
  }

  std::string SnapDir(const std::string& name) const { return tmp_.path() + "/" + name; }

  // Go member 2 (the rafthttp-peer CMake built) with snapshots under `snap_dir`.
  static std::unique_ptr<GoPeer> StartGo(const std::string& snap_dir,
                                         const std::string& listen = "127.0.0.1:0") {
    return GoPeer::Start(RAFTKIT_RAFTHTTP_PEER, 2, snap_dir, listen);
  }

  // raftkit member `local` and Go member 2 add each other; waits until every stream is up.
  void Connect(uint64_t local = 1) {
    rk_->transport->AddPeer(NodeId(2), {go_->url()});
    go_->Command({{"op", "add_peer"}, {"id", local}, {"urls", {rk_->url()}}});
    WaitStreamsUp(local);
  }

  void WaitStreamsUp(uint64_t local = 1) {
    ASSERT_TRUE(Eventually([&] { return rk_->StreamsUp(2); }))
        << "raftkit's streams with the Go peer did not come up: " << rk_->PeerStats(2).dump();
    ASSERT_TRUE(Eventually([&] { return go_->Active(local); }))
        << "the Go peer does not report raftkit active";
    ASSERT_EQ(rk_->transport->ActivePeers(), 1u);
  }

  // One heartbeat each way arrives.
  void ExpectTrafficBothWays(uint64_t local, uint64_t commit) {
    rk_->transport->Send({Heartbeat(local, 2, commit)});
    auto got = go_->Wait([&](const json& ev) {
      return ev.value("ev", "") == "recv" && EventMessage(ev).type == MessageType::MsgHeartbeat &&
             EventMessage(ev).commit == Index(commit);
    });
    EXPECT_TRUE(got.has_value()) << "raftkit -> go heartbeat " << commit << " did not arrive";
    go_->Send({Heartbeat(2, local, commit)});
    auto back = rk_->node.TakeMessage([&](const raftpb::Message& m) {
      return m.type == MessageType::MsgHeartbeat && m.commit == Index(commit);
    });
    EXPECT_TRUE(back.has_value()) << "go -> raftkit heartbeat " << commit << " did not arrive";
  }

  TempDir tmp_;
  std::unique_ptr<RaftkitSide> rk_;
  std::unique_ptr<GoPeer> go_;
};

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

// A snapshot data source producing `size` bytes of PatternByte(i, seed).
std::function<Result<size_t>(char*, size_t)> PatternSource(uint64_t size, uint64_t seed) {
  auto pos = std::make_shared<uint64_t>(0);
  return [pos, size, seed](char* buf, size_t capacity) -> Result<size_t> {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(capacity, size - *pos));
    for (size_t i = 0; i < n; ++i)
      buf[i] = PatternByte(*pos + i, seed);
    *pos += n;
    return n;
  };
}

TEST_F(RafthttpLiveTest, EveryMemberMessageTypeArrivesByteIdenticalBothWays) {
  rk_ = RaftkitSide::Start(1);
  ASSERT_TRUE(rk_);
  ASSERT_TRUE(go_ = StartGo(SnapDir("go")));
  ASSERT_NO_FATAL_FAILURE(Connect());

  const auto& types = MemberMessageTypes();
  std::vector<raftpb::Message> to_go;
  for (MessageType t : types)
    to_go.push_back(MakeMessage(t, 1, 2));
  rk_->transport->Send(to_go);
  for (const auto& m : to_go) {
    auto ev = go_->WaitReceived(m.type);
    ASSERT_TRUE(ev.has_value()) << "raftkit -> go: " << raftpb::Name(m.type) << " did not arrive";
    EXPECT_EQ(EventBytes(*ev), raftpb::Encode(m)) << "raftkit -> go: " << raftpb::Name(m.type);
  }
  std::cout << "interop: " << types.size() << " message types raftkit->go byte-identical\n";

  std::vector<raftpb::Message> to_rk;
  for (MessageType t : types)
    to_rk.push_back(MakeMessage(t, 2, 1));
  go_->Send(to_rk);
  for (const auto& m : to_rk) {
    auto got = rk_->node.TakeMessage(m.type);
    ASSERT_TRUE(got.has_value()) << "go -> raftkit: " << raftpb::Name(m.type) << " did not arrive";
    EXPECT_EQ(raftpb::Encode(*got), raftpb::Encode(m)) << "go -> raftkit: " << raftpb::Name(m.type);
  }
  std::cout << "interop: " << types.size() << " message types go->raftkit byte-identical\n";
}

TEST_F(RafthttpLiveTest, StreamsCarryMsgAppAndMessagesInOrderBothWays) {
  rk_ = RaftkitSide::Start(1);
  ASSERT_TRUE(rk_);
  ASSERT_TRUE(go_ = StartGo(SnapDir("go")));
  ASSERT_NO_FATAL_FAILURE(Connect());
  // raftkit writes on the streams Go dialed and reads the ones it dialed to Go: all four are up.
  const json before = rk_->PeerStats(2);
  EXPECT_TRUE(before.at("streams").at("msgapp").at("sending").get<bool>());
  EXPECT_TRUE(before.at("streams").at("message").at("sending").get<bool>());
  EXPECT_TRUE(before.at("streams").at("msgapp").at("receiving").get<bool>());
  EXPECT_TRUE(before.at("streams").at("message").at("receiving").get<bool>());

  // 2,000 consecutive MsgApp: the pipeline's four workers would reorder them; a stream cannot.
  constexpr uint64_t kCount = 2000;
  std::vector<raftpb::Message> apps;
  for (uint64_t i = 1; i <= kCount; ++i)
    apps.push_back(Append(1, 2, i));
  rk_->transport->Send(apps);
  for (uint64_t i = 1; i <= kCount; ++i) {
    auto ev = go_->WaitReceived(MessageType::MsgApp);
    ASSERT_TRUE(ev.has_value()) << "raftkit -> go: MsgApp " << i << " of " << kCount << " missing";
    const raftpb::Message m = EventMessage(*ev);
    ASSERT_EQ(m.entries.size(), 1u);
    ASSERT_EQ(m.entries[0].index, Index(i)) << "raftkit -> go: MsgApp out of order";
    EXPECT_EQ(EventBytes(*ev), raftpb::Encode(apps[i - 1]));
  }
  // Which stream. A msgappv2 "entries" frame (type 1) carries only entries and commit; the
  // receiver rebuilds type, from, to, term, log term and index from the stream itself (from = the
  // member that stream connects to). The message stream and the pipeline carry the protobuf as
  // is. raftkit writes a type 1 frame for a MsgApp that continues the previous one and has no
  // other fields (it does not look at `from`), so a continuing MsgApp whose `from` is another
  // member arrives from 1 only if it travelled the msgapp stream.
  raftpb::Message marked = Append(1, 2, kCount + 1);
  marked.from = NodeId(5);
  raftpb::Message as_msgappv2 = marked;
  as_msgappv2.from = NodeId(1);
  rk_->transport->Send({marked});
  auto marked_ev = go_->WaitReceived(MessageType::MsgApp);
  ASSERT_TRUE(marked_ev.has_value());
  EXPECT_EQ(EventBytes(*marked_ev), raftpb::Encode(as_msgappv2))
      << "raftkit -> go: the MsgApp did not travel the msgapp stream (msgappv2)";
  // Heartbeats go over the message stream, in order among themselves.
  std::vector<raftpb::Message> beats;
  for (uint64_t i = 1; i <= 100; ++i)
    beats.push_back(Heartbeat(1, 2, i));
  rk_->transport->Send(beats);
  for (uint64_t i = 1; i <= 100; ++i) {
    auto ev = go_->WaitReceived(MessageType::MsgHeartbeat);
    ASSERT_TRUE(ev.has_value());
    ASSERT_EQ(EventMessage(*ev).commit, Index(i)) << "raftkit -> go: heartbeats out of order";
  }
  std::cout << "interop: " << kCount
            << " MsgApp raftkit->go in order over the msgapp stream (msgappv2 entries-only frame"
               " seen), 100 heartbeats in order over the message stream\n";

  std::vector<raftpb::Message> back;
  for (uint64_t i = 1; i <= kCount; ++i)
    back.push_back(Append(2, 1, i));
  go_->Send(back);
  const auto got = rk_->node.TakeMessages(MessageType::MsgApp, kCount);
  ASSERT_EQ(got.size(), kCount) << "go -> raftkit: MsgApp missing";
  for (uint64_t i = 1; i <= kCount; ++i) {
    ASSERT_EQ(got[i - 1].entries.at(0).index, Index(i)) << "go -> raftkit: MsgApp out of order";
    EXPECT_EQ(raftpb::Encode(got[i - 1]), raftpb::Encode(back[i - 1]));
  }
  // Go's msgappv2 encoder writes a type 1 frame for any continuing MsgApp, dropping what the
  // frame cannot carry (here context): the context is gone only if the msgapp stream carried it.
  raftpb::Message go_marked = Append(2, 1, kCount + 1);
  go_marked.context = Bytes("lost on the msgapp stream");
  raftpb::Message go_as_msgappv2 = go_marked;
  go_as_msgappv2.context = Bytes();
  go_->Send({go_marked});
  auto got_marked = rk_->node.TakeMessage(MessageType::MsgApp);
  ASSERT_TRUE(got_marked.has_value());
  EXPECT_EQ(raftpb::Encode(*got_marked), raftpb::Encode(go_as_msgappv2))
      << "go -> raftkit: the MsgApp did not travel the msgapp stream (msgappv2)";
  std::vector<raftpb::Message> go_beats;
  for (uint64_t i = 1; i <= 100; ++i)
    go_beats.push_back(Heartbeat(2, 1, i));
  go_->Send(go_beats);
  const auto got_beats = rk_->node.TakeMessages(MessageType::MsgHeartbeat, 100);
  ASSERT_EQ(got_beats.size(), 100u);
  for (uint64_t i = 1; i <= 100; ++i) {
    ASSERT_EQ(got_beats[i - 1].commit, Index(i)) << "go -> raftkit: heartbeats out of order";
  }
  // Everything travelled on streams that stayed up.
  EXPECT_TRUE(rk_->StreamsUp(2)) << rk_->PeerStats(2).dump();
  std::cout << "interop: " << kCount
            << " MsgApp go->raftkit in order over the msgapp stream (msgappv2 entries-only frame"
               " seen), 100 heartbeats in order over the message stream\n";
}

TEST_F(RafthttpLiveTest, PipelineCarriesMessagesBeforeAnyStreamIsUp) {
  rk_ = RaftkitSide::Start(1);
  ASSERT_TRUE(rk_);
  ASSERT_TRUE(go_ = StartGo(SnapDir("go")));

  // Go does not know member 1 yet: it answers raftkit's stream dials 404, so only the pipeline
  // (POST /raft, which needs no peer on the receiving side) can deliver.
  rk_->transport->AddPeer(NodeId(2), {go_->url()});
  const std::vector<MessageType> types = {MessageType::MsgVote, MessageType::MsgHeartbeat,
                                          MessageType::MsgApp, MessageType::MsgReadIndex};
  std::vector<raftpb::Message> to_go;
  for (MessageType t : types)
    to_go.push_back(MakeMessage(t, 1, 2));
  rk_->transport->Send(to_go);
  for (const auto& m : to_go) {
    auto ev = go_->WaitReceived(m.type);
    ASSERT_TRUE(ev.has_value()) << "raftkit -> go over the pipeline: " << raftpb::Name(m.type);
    EXPECT_EQ(EventBytes(*ev), raftpb::Encode(m));
  }
  const json stats = rk_->PeerStats(2);
  EXPECT_FALSE(stats.at("streams").at("msgapp").at("sending").get<bool>()) << stats.dump();
  EXPECT_FALSE(stats.at("streams").at("message").at("sending").get<bool>()) << stats.dump();
  std::cout << "interop: " << types.size()
            << " message types raftkit->go over the pipeline before any stream\n";

  // The reverse: a second raftkit member (3) that does not know Go; Go adds it and sends.
  auto other = RaftkitSide::Start(3);
  ASSERT_TRUE(other);
  go_->Command({{"op", "add_peer"}, {"id", 3}, {"urls", {other->url()}}});
  std::vector<raftpb::Message> to_rk;
  for (MessageType t : types)
    to_rk.push_back(MakeMessage(t, 2, 3));
  go_->Send(to_rk);
  for (const auto& m : to_rk) {
    auto got = other->node.TakeMessage(m.type);
    ASSERT_TRUE(got.has_value()) << "go -> raftkit over the pipeline: " << raftpb::Name(m.type);
    EXPECT_EQ(raftpb::Encode(*got), raftpb::Encode(m));
  }
  EXPECT_TRUE(other->PeerStats(2).is_null()) << "raftkit member 3 was never given peer 2";
  std::cout << "interop: " << types.size()
            << " message types go->raftkit over the pipeline before any stream\n";
}

TEST_F(RafthttpLiveTest, SnapshotEndpointCarries24MiBBothWays) {
  rk_ = RaftkitSide::Start(1);
  ASSERT_TRUE(rk_);
  ASSERT_TRUE(go_ = StartGo(SnapDir("go")));
  ASSERT_NO_FATAL_FAILURE(Connect());

  // raftkit -> Go: POST /raft/snapshot; Go saves <index>.snap.db, then Process()es the MsgSnap.
  constexpr uint64_t kSeed = 11;
  OutgoingSnapshot out;
  out.message = MakeMessage(MessageType::MsgSnap, 1, 2);
  out.message.snapshot.data = Bytes("metadata only");
  out.message.snapshot.metadata.index = Index(500);
  out.data_size = kSnapshotBytes;
  out.read = PatternSource(kSnapshotBytes, kSeed);
  std::promise<bool> done;
  auto done_future = done.get_future();
  out.done = [&done](bool ok) { done.set_value(ok); };
  const raftpb::Message sent = out.message;
  rk_->transport->SendSnapshot(std::move(out));

  auto ev = go_->WaitEvent("snap");
  ASSERT_TRUE(ev.has_value()) << "raftkit -> go: the snapshot did not arrive";
  EXPECT_EQ(ev->at("size").get<uint64_t>(), kSnapshotBytes);
  EXPECT_EQ(ev->at("sha256").get<std::string>(), PatternSha256(kSnapshotBytes, kSeed));
  EXPECT_EQ(EventBytes(*ev), raftpb::Encode(sent));
  ASSERT_EQ(rk_->node.WaitSnapshotReport(2), SnapshotStatus::kFinish);
  ASSERT_EQ(done_future.wait_for(kWait), std::future_status::ready);
  EXPECT_TRUE(done_future.get());
  std::cout << "interop: 24 MiB snapshot raftkit->go over /raft/snapshot, size and sha256 match,"
               " ReportSnapshot(finish)\n";

  // Go -> raftkit: raftkit's ProcessSnapshot reads the data.
  constexpr uint64_t kGoSeed = 29;
  raftpb::Message go_snap = MakeMessage(MessageType::MsgSnap, 2, 1);
  go_snap.snapshot.data = Bytes("go metadata");
  go_snap.snapshot.metadata.index = Index(600);
  go_->Command({{"op", "send_snapshot"},
                {"msg", Base64Encode(raftpb::Encode(go_snap))},
                {"size", kSnapshotBytes},
                {"seed", kGoSeed}});
  auto got = rk_->node.TakeSnapshot();
  ASSERT_TRUE(got.has_value()) << "go -> raftkit: the snapshot did not arrive";
  EXPECT_EQ(got->size, kSnapshotBytes);
  EXPECT_EQ(got->sha256, PatternSha256(kSnapshotBytes, kGoSeed));
  EXPECT_EQ(raftpb::Encode(got->message), raftpb::Encode(go_snap));
  auto report = go_->WaitEvent("report_snapshot");
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->at("id").get<uint64_t>(), 1u);
  EXPECT_TRUE(report->at("ok").get<bool>());
  auto sent_ev = go_->WaitEvent("snapshot_sent");
  ASSERT_TRUE(sent_ev.has_value());
  EXPECT_TRUE(sent_ev->at("ok").get<bool>());
  std::cout << "interop: 24 MiB snapshot go->raftkit over /raft/snapshot, size and sha256 match,"
               " ReportSnapshot(finish)\n";
}

TEST_F(RafthttpLiveTest, InlineSnapshotModeSendsTheStateInsideMsgSnapOnThePipeline) {
  rk_ = RaftkitSide::Start(1, SnapshotMode::kInline);
  ASSERT_TRUE(rk_);
  ASSERT_TRUE(go_ = StartGo(SnapDir("go")));
  ASSERT_NO_FATAL_FAILURE(Connect());

  constexpr uint64_t kSize = uint64_t{1} << 20;
  constexpr uint64_t kSeed = 3;
  OutgoingSnapshot out;
  out.message = MakeMessage(MessageType::MsgSnap, 1, 2);
  out.message.snapshot.data = Bytes("");
  out.message.snapshot.metadata.index = Index(700);
  out.data_size = kSize;
  out.read = PatternSource(kSize, kSeed);
  rk_->transport->SendSnapshot(std::move(out));

  // peer.go reports the inline snapshot.data when no .snap.db file was written for the index.
  auto ev = go_->WaitEvent("snap");
  ASSERT_TRUE(ev.has_value()) << "the inline snapshot did not arrive";
  EXPECT_EQ(ev->at("size").get<uint64_t>(), kSize);
  EXPECT_EQ(ev->at("sha256").get<std::string>(), PatternSha256(kSize, kSeed));
  const raftpb::Message m = EventMessage(*ev);
  EXPECT_EQ(m.snapshot.metadata.index, Index(700));
  EXPECT_EQ(m.snapshot.data.view(), Pattern(kSize, kSeed));
  EXPECT_FALSE(std::filesystem::exists(SnapDir("go") + "/00000000000002bc.snap.db"));
  EXPECT_EQ(rk_->node.WaitSnapshotReport(2), SnapshotStatus::kFinish);
  std::cout << "interop: 1 MiB inline MsgSnap raftkit->go over the pipeline, data matches\n";
}

TEST_F(RafthttpLiveTest, StreamsComeBackWhenTheGoPeerRestartsOnTheSamePort) {
  rk_ = RaftkitSide::Start(1);
  ASSERT_TRUE(rk_);
  ASSERT_TRUE(go_ = StartGo(SnapDir("go")));
  ASSERT_NO_FATAL_FAILURE(Connect());
  ASSERT_NO_FATAL_FAILURE(ExpectTrafficBothWays(1, 1));

  const std::string address = go_->address();
  go_->Stop();
  go_.reset();
  ASSERT_TRUE(Eventually([&] { return rk_->transport->ActivePeers() == 0; }))
      << "raftkit still reports the stopped Go peer active";

  ASSERT_TRUE(go_ = StartGo(SnapDir("go2"), address));
  go_->Command({{"op", "add_peer"}, {"id", 1}, {"urls", {rk_->url()}}});
  ASSERT_NO_FATAL_FAILURE(WaitStreamsUp());
  EXPECT_EQ(rk_->transport->ActivePeers(), 1u);
  ASSERT_NO_FATAL_FAILURE(ExpectTrafficBothWays(1, 2));
  // And the MsgApp stream in particular.
  rk_->transport->Send({Append(1, 2, 1)});
  EXPECT_TRUE(go_->WaitReceived(MessageType::MsgApp).has_value());
  go_->Send({Append(2, 1, 1)});
  EXPECT_TRUE(rk_->node.TakeMessage(MessageType::MsgApp).has_value());
  std::cout << "interop: Go peer restarted on " << address
            << ": streams re-established, ActivePeers back to 1, messages flow both ways\n";
}

TEST_F(RafthttpLiveTest, RaftkitLearnsItWasRemovedFromA410OnItsStreamDial) {
  rk_ = RaftkitSide::Start(3);
  ASSERT_TRUE(rk_);
  ASSERT_TRUE(go_ = StartGo(SnapDir("go")));
  go_->Command({{"op", "mark_removed"}, {"id", 3}});
  go_->Command({{"op", "add_peer"}, {"id", 3}, {"urls", {rk_->url()}}});
  rk_->transport->AddPeer(NodeId(2), {go_->url()});

  auto critical = rk_->WaitCritical();
  ASSERT_TRUE(critical.has_value()) << "OnCriticalError did not fire";
  EXPECT_FALSE(critical->ok());
  std::cout << "interop: go marked raftkit removed -> 410 on raftkit's stream dial -> critical"
               " error: "
            << critical->ToString() << "\n";
}

TEST_F(RafthttpLiveTest, GoLearnsItWasRemovedFromA410OnItsStreamDial) {
  rk_ = RaftkitSide::Start(3);
  ASSERT_TRUE(rk_);
  ASSERT_TRUE(go_ = StartGo(SnapDir("go")));
  rk_->node.MarkRemoved(2);
  rk_->transport->AddPeer(NodeId(2), {go_->url()});
  go_->Command({{"op", "add_peer"}, {"id", 3}, {"urls", {rk_->url()}}});

  auto critical = go_->WaitEvent("critical");
  ASSERT_TRUE(critical.has_value()) << "the Go peer reported no critical error";
  EXPECT_NE(critical->at("error").get<std::string>().find("removed"), std::string::npos)
      << critical->dump();
  std::cout << "interop: raftkit marked go removed -> 410 on go's stream dial -> critical error: "
            << critical->at("error").get<std::string>() << "\n";
}

}  // namespace
}  // namespace raftkit::rafthttp::interop
