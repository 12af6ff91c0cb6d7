// gen_golden prints raftkit's golden raftpb vectors to stdout. Every vector is produced by etcd
// 3.4's own Go code (go.etcd.io/etcd/raft/raftpb, gogoproto-generated Marshal/Unmarshal), so the
// C++ codec test (tests/raftpb/codec_golden_test.cc) can check raftkit byte for byte against Go
// without needing Go at test time.
//
// Run it through scripts/gen_golden.sh, which writes tests/raftpb/testdata/golden_vectors.txt.
// The line format is documented in the header this program prints (see printHeader).
//
// The program checks itself before printing anything: the canonical encodings of the wire spec
// (§2.5) must come out byte for byte, every encoding must have the length Size() reports, every
// encoding must decode back to a value with the same description, and re-encoding a decoded value
// must be stable. Any failure exits with status 1 and prints nothing on stdout.
package main

import (
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"

	pb "go.etcd.io/etcd/raft/raftpb"
)

// codec is what every gogoproto-generated raftpb message implements.
type codec interface {
	Marshal() ([]byte, error)
	Unmarshal([]byte) error
	Size() int
}

var kinds = []string{
	"Entry", "ConfState", "SnapshotMetadata", "Snapshot", "Message", "HardState",
	"ConfChange", "ConfChangeSingle", "ConfChangeV2",
}

func newValue(kind string) codec {
	switch kind {
	case "Entry":
		return &pb.Entry{}
	case "ConfState":
		return &pb.ConfState{}
	case "SnapshotMetadata":
		return &pb.SnapshotMetadata{}
	case "Snapshot":
		return &pb.Snapshot{}
	case "Message":
		return &pb.Message{}
	case "HardState":
		return &pb.HardState{}
	case "ConfChange":
		return &pb.ConfChange{}
	case "ConfChangeSingle":
		return &pb.ConfChangeSingle{}
	case "ConfChangeV2":
		return &pb.ConfChangeV2{}
	}
	fail("unknown kind %q", kind)
	return nil
}

func kindOf(v codec) string {
	switch v.(type) {
	case *pb.Entry:
		return "Entry"
	case *pb.ConfState:
		return "ConfState"
	case *pb.SnapshotMetadata:
		return "SnapshotMetadata"
	case *pb.Snapshot:
		return "Snapshot"
	case *pb.Message:
		return "Message"
	case *pb.HardState:
		return "HardState"
	case *pb.ConfChange:
		return "ConfChange"
	case *pb.ConfChangeSingle:
		return "ConfChangeSingle"
	case *pb.ConfChangeV2:
		return "ConfChangeV2"
	}
	fail("unsupported value type %T", v)
	return ""
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "gen_golden: "+format+"\n", args...)
	os.Exit(1)
}

// ---------------------------------------------------------------------------------------------
// Canonical description: every field, in field-number order, enums as numbers, nullable bytes as
// nil or h'<hex>', unknown fields (XXX_unrecognized) always as h'<hex>'.
// ---------------------------------------------------------------------------------------------

func nullable(b []byte) string {
	if b == nil {
		return "nil"
	}
	return "h'" + hex.EncodeToString(b) + "'"
}

func unknown(b []byte) string { return "h'" + hex.EncodeToString(b) + "'" }

func idList(ids []uint64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatUint(id, 10)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func descEntry(e *pb.Entry) string {
	return fmt.Sprintf("Entry{Type:%d Term:%d Index:%d Data:%s Unknown:%s}",
		int32(e.Type), e.Term, e.Index, nullable(e.Data), unknown(e.XXX_unrecognized))
}

func descConfState(cs *pb.ConfState) string {
	return fmt.Sprintf("ConfState{Voters:%s Learners:%s VotersOutgoing:%s LearnersNext:%s AutoLeave:%t Unknown:%s}",
		idList(cs.Voters), idList(cs.Learners), idList(cs.VotersOutgoing), idList(cs.LearnersNext),
		cs.AutoLeave, unknown(cs.XXX_unrecognized))
}

func descSnapshotMetadata(m *pb.SnapshotMetadata) string {
	return fmt.Sprintf("SnapshotMetadata{ConfState:%s Index:%d Term:%d Unknown:%s}",
		descConfState(&m.ConfState), m.Index, m.Term, unknown(m.XXX_unrecognized))
}

func descSnapshot(s *pb.Snapshot) string {
	return fmt.Sprintf("Snapshot{Data:%s Metadata:%s Unknown:%s}",
		nullable(s.Data), descSnapshotMetadata(&s.Metadata), unknown(s.XXX_unrecognized))
}

func descMessage(m *pb.Message) string {
	ents := make([]string, len(m.Entries))
	for i := range m.Entries {
		ents[i] = descEntry(&m.Entries[i])
	}
	return fmt.Sprintf("Message{Type:%d To:%d From:%d Term:%d LogTerm:%d Index:%d Entries:[%s] Commit:%d Snapshot:%s Reject:%t RejectHint:%d Context:%s Unknown:%s}",
		int32(m.Type), m.To, m.From, m.Term, m.LogTerm, m.Index, strings.Join(ents, " "), m.Commit,
		descSnapshot(&m.Snapshot), m.Reject, m.RejectHint, nullable(m.Context), unknown(m.XXX_unrecognized))
}

func descHardState(hs *pb.HardState) string {
	return fmt.Sprintf("HardState{Term:%d Vote:%d Commit:%d Unknown:%s}",
		hs.Term, hs.Vote, hs.Commit, unknown(hs.XXX_unrecognized))
}

func descConfChange(cc *pb.ConfChange) string {
	return fmt.Sprintf("ConfChange{ID:%d Type:%d NodeID:%d Context:%s Unknown:%s}",
		cc.ID, int32(cc.Type), cc.NodeID, nullable(cc.Context), unknown(cc.XXX_unrecognized))
}

func descConfChangeSingle(c *pb.ConfChangeSingle) string {
	return fmt.Sprintf("ConfChangeSingle{Type:%d NodeID:%d Unknown:%s}",
		int32(c.Type), c.NodeID, unknown(c.XXX_unrecognized))
}

func descConfChangeV2(cc *pb.ConfChangeV2) string {
	chs := make([]string, len(cc.Changes))
	for i := range cc.Changes {
		chs[i] = descConfChangeSingle(&cc.Changes[i])
	}
	return fmt.Sprintf("ConfChangeV2{Transition:%d Changes:[%s] Context:%s Unknown:%s}",
		int32(cc.Transition), strings.Join(chs, " "), nullable(cc.Context), unknown(cc.XXX_unrecognized))
}

func describe(v codec) string {
	switch x := v.(type) {
	case *pb.Entry:
		return descEntry(x)
	case *pb.ConfState:
		return descConfState(x)
	case *pb.SnapshotMetadata:
		return descSnapshotMetadata(x)
	case *pb.Snapshot:
		return descSnapshot(x)
	case *pb.Message:
		return descMessage(x)
	case *pb.HardState:
		return descHardState(x)
	case *pb.ConfChange:
		return descConfChange(x)
	case *pb.ConfChangeSingle:
		return descConfChangeSingle(x)
	case *pb.ConfChangeV2:
		return descConfChangeV2(x)
	}
	fail("unsupported value type %T", v)
	return ""
}

// ---------------------------------------------------------------------------------------------
// Vector collection
// ---------------------------------------------------------------------------------------------

var validName = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

type generator struct {
	lines []string
	seen  map[string]bool
}

// hexOut renders bytes for the file: lowercase hex, "-" when there are none.
func hexOut(b []byte) string {
	if len(b) == 0 {
		return "-"
	}
	return hex.EncodeToString(b)
}

// unhex parses hex written with optional spaces for readability.
func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		fail("bad hex %q: %v", s, err)
	}
	return b
}

func (g *generator) claim(kind, name string) {
	if !validName.MatchString(name) {
		fail("case name %q must match %s", name, validName)
	}
	key := kind + " " + name
	if g.seen[key] {
		fail("duplicate case %s", key)
	}
	g.seen[key] = true
}

func marshal(v codec) []byte {
	b, err := v.Marshal()
	if err != nil {
		fail("%s: marshal: %v", kindOf(v), err)
	}
	if len(b) != v.Size() {
		fail("%s: Size() %d != len(Marshal()) %d", kindOf(v), v.Size(), len(b))
	}
	return b
}

// checkStable decodes `b` (Go's own encoding of a value described by `desc`) and requires the
// decoded value to have the same description and the same encoding.
func checkStable(kind, name string, b []byte, desc string) {
	back := newValue(kind)
	if err := back.Unmarshal(b); err != nil {
		fail("%s %s: Go cannot decode its own encoding: %v", kind, name, err)
	}
	if got := describe(back); got != desc {
		fail("%s %s: decode(encode(v)) differs:\n  %s\n  %s", kind, name, got, desc)
	}
	if again := marshal(back); hex.EncodeToString(again) != hex.EncodeToString(b) {
		fail("%s %s: re-encoding is not stable", kind, name)
	}
}

// enc records the Go encoding of a value.
func (g *generator) enc(name string, v codec) []byte {
	kind := kindOf(v)
	g.claim(kind, name)
	b := marshal(v)
	desc := describe(v)
	checkStable(kind, name, b, desc)
	g.lines = append(g.lines, fmt.Sprintf("enc %s %s %s %s", kind, name, hexOut(b), desc))
	return b
}

// spec records a value whose encoding is listed in the wire spec (§2.5) and asserts that Go's
// encoding is exactly that.
func (g *generator) spec(name string, v codec, want string) {
	b := g.enc(name, v)
	if got, w := hex.EncodeToString(b), hex.EncodeToString(unhex(want)); got != w {
		fail("spec vector %s: Go encodes %s, the spec says %s", name, got, w)
	}
}

// dec records how Go decodes a hand-made input and how it re-encodes the result.
func (g *generator) dec(kind, name, inHex string) {
	g.claim(kind, name)
	in := unhex(inHex)
	v := newValue(kind)
	if err := v.Unmarshal(in); err != nil {
		fail("%s %s: Go rejects the input: %v", kind, name, err)
	}
	out := marshal(v)
	desc := describe(v)
	checkStable(kind, name, out, desc)
	g.lines = append(g.lines, fmt.Sprintf("dec %s %s %s %s %s", kind, name, hexOut(in), hexOut(out), desc))
}

// bad records an input Go refuses to decode.
func (g *generator) bad(kind, name, inHex string) {
	g.claim(kind, name)
	in := unhex(inHex)
	err := newValue(kind).Unmarshal(in)
	if err == nil {
		fail("%s %s: Go accepts the input, expected an error", kind, name)
	}
	g.lines = append(g.lines, fmt.Sprintf("err %s %s %s %s", kind, name, hexOut(in), err.Error()))
}

// ---------------------------------------------------------------------------------------------
// The vectors
// ---------------------------------------------------------------------------------------------

const (
	maxU64 = uint64(math.MaxUint64)
	pow63  = uint64(1) << 63
)

// emptySnap is the encoding of the zero Snapshot as a Message field (field 9).
const emptySnapField = "4a 0a 12 08 0a 02 28 00 10 00 18 00"

func mustBytes(v codec) []byte { return marshal(v) }

func fullConfState() pb.ConfState {
	return pb.ConfState{
		Voters:         []uint64{1, 2, 3},
		Learners:       []uint64{4, 5},
		VotersOutgoing: []uint64{1, 2, 6},
		LearnersNext:   []uint64{7},
		AutoLeave:      true,
	}
}

func maxConfState() pb.ConfState {
	return pb.ConfState{
		Voters:         []uint64{maxU64, pow63, 0},
		Learners:       []uint64{pow63 - 1, pow63, maxU64, 0},
		VotersOutgoing: []uint64{maxU64, pow63, 0},
		LearnersNext:   []uint64{pow63, maxU64, 0},
		AutoLeave:      true,
	}
}

func allBytes() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func (g *generator) entries() {
	g.enc("zero", &pb.Entry{})
	g.spec("spec_data_hi", &pb.Entry{Term: 2, Index: 3, Data: []byte("hi")}, "08 00 10 02 18 03 22 02 68 69")
	g.spec("spec_noop_nil_data", &pb.Entry{Term: 2, Index: 4}, "08 00 10 02 18 04")
	g.enc("data_nil", &pb.Entry{Term: 1, Index: 1, Data: nil})
	g.enc("data_empty", &pb.Entry{Term: 1, Index: 1, Data: []byte{}})
	g.enc("data_all_byte_values", &pb.Entry{Term: 7, Index: 300, Data: allBytes()})
	g.enc("type_EntryNormal", &pb.Entry{Type: pb.EntryNormal, Term: 3, Index: 9, Data: []byte("put k v")})
	cc := pb.ConfChange{ID: 5, Type: pb.ConfChangeAddNode, NodeID: 4, Context: []byte("http://127.0.0.1:12382")}
	g.enc("type_EntryConfChange", &pb.Entry{Type: pb.EntryConfChange, Term: 3, Index: 10, Data: mustBytes(&cc)})
	ccv2 := pb.ConfChangeV2{Changes: []pb.ConfChangeSingle{{Type: pb.ConfChangeAddLearnerNode, NodeID: 4}}}
	g.enc("type_EntryConfChangeV2", &pb.Entry{Type: pb.EntryConfChangeV2, Term: 3, Index: 11, Data: mustBytes(&ccv2)})
	g.enc("type_out_of_range_99", &pb.Entry{Type: 99, Term: 1, Index: 2})
	g.enc("type_negative_1", &pb.Entry{Type: -1, Term: 1, Index: 2, Data: []byte{}})
	g.enc("type_max_int32", &pb.Entry{Type: math.MaxInt32, Term: 1, Index: 2})
	g.enc("type_min_int32", &pb.Entry{Type: math.MinInt32, Term: 1, Index: 2})
	g.enc("max_u64", &pb.Entry{Term: maxU64, Index: maxU64, Data: []byte("m")})
	g.enc("pow63", &pb.Entry{Term: pow63, Index: pow63})
	g.enc("varint_boundaries", &pb.Entry{Term: 127, Index: 128, Data: make([]byte, 128)})

	// Decode direction.
	g.dec("Entry", "empty_input", "")
	g.dec("Entry", "declaration_order", "10 02 18 03 08 01 22 01 78")
	g.dec("Entry", "data_before_type", "22 00 18 05 10 04 08 00")
	g.dec("Entry", "only_data_empty", "22 00")
	g.dec("Entry", "unknown_varint_field_5", "08 00 10 02 18 03 28 07")
	g.dec("Entry", "unknown_fields_first", "28 07 32 02 ab cd 08 00 10 02 18 03")
	g.dec("Entry", "duplicate_data_last_wins", "22 02 61 62 22 01 63")
	g.dec("Entry", "duplicate_data_then_empty", "22 02 61 62 22 00")
	g.dec("Entry", "nonminimal_varints", "08 80 00 10 82 80 00 18 ff ff ff ff ff ff ff ff ff 01")
	g.dec("Entry", "type_varint_beyond_int32", "08 85 80 80 80 10")
	g.dec("Entry", "type_negative_10_bytes", "08 fe ff ff ff ff ff ff ff ff 01")
	g.dec("Entry", "varint_10th_byte_overflow_bits", "10 ff ff ff ff ff ff ff ff ff 7f")

	g.bad("Entry", "truncated_tag_only", "08")
	g.bad("Entry", "truncated_varint", "10 80")
	g.bad("Entry", "data_length_past_end", "22 05 61 62")
	g.bad("Entry", "overlong_varint_11_bytes", "10 ff ff ff ff ff ff ff ff ff ff 01")
	g.bad("Entry", "wrong_wire_type_term_len", "12 01 00")
	g.bad("Entry", "wrong_wire_type_data_varint", "20 01")
	g.bad("Entry", "wrong_wire_type_type_fixed32", "0d 00 00 00 00")
	g.bad("Entry", "field_number_zero", "00 00")
	g.bad("Entry", "lone_end_group", "2c")
	g.bad("Entry", "illegal_wire_type_6", "2e 00")
	g.bad("Entry", "unknown_fixed64_truncated", "29 01 02 03")
	g.bad("Entry", "negative_length", "22 ff ff ff ff ff ff ff ff ff 01")
}

func (g *generator) confStates() {
	g.enc("zero", &pb.ConfState{})
	g.spec("spec_voters_123", &pb.ConfState{Voters: []uint64{1, 2, 3}}, "08 01 08 02 08 03 28 00")
	full := fullConfState()
	g.enc("full_joint_auto_leave", &full)
	g.enc("learners_only", &pb.ConfState{Learners: []uint64{9}})
	g.enc("voters_outgoing_only", &pb.ConfState{VotersOutgoing: []uint64{1, 2}})
	g.enc("learners_next_only", &pb.ConfState{LearnersNext: []uint64{3}})
	g.enc("auto_leave_only", &pb.ConfState{AutoLeave: true})
	g.enc("unsorted_and_duplicate_ids", &pb.ConfState{Voters: []uint64{3, 1, 2, 2}, Learners: []uint64{5, 4}})
	mx := maxConfState()
	g.enc("max_u64_ids", &mx)
	g.enc("zero_ids", &pb.ConfState{Voters: []uint64{0, 0}})

	g.dec("ConfState", "empty_input", "")
	g.dec("ConfState", "packed_voters", "0a 03 01 02 03 28 00")
	g.dec("ConfState", "packed_all_fields", "0a 02 01 02 12 01 04 1a 02 01 06 22 01 07 28 01")
	g.dec("ConfState", "packed_and_unpacked_mixed", "08 01 0a 02 02 03 08 04")
	g.dec("ConfState", "packed_empty", "0a 00 28 00")
	g.dec("ConfState", "packed_max_u64", "0a 0a ff ff ff ff ff ff ff ff ff 01")
	g.dec("ConfState", "auto_leave_missing", "08 01")
	g.dec("ConfState", "auto_leave_first_varint_2", "28 02 20 07 18 06 10 05 08 01")
	g.dec("ConfState", "interleaved_fields", "08 01 10 09 08 02 10 0a 08 03")
	g.dec("ConfState", "unknown_field_6", "08 01 28 00 30 2a")
	g.dec("ConfState", "unknown_length_delimited_field_15", "7a 03 61 62 63 08 01 28 01")

	g.bad("ConfState", "wrong_wire_type_voters_fixed64", "09 01 00 00 00 00 00 00 00")
	g.bad("ConfState", "packed_length_past_end", "0a 05 01 02")
	g.bad("ConfState", "packed_truncated_varint", "0a 01 80")
	g.bad("ConfState", "wrong_wire_type_auto_leave_len", "2a 01 01")
}

func (g *generator) snapshotMetadata() {
	g.enc("zero", &pb.SnapshotMetadata{})
	g.enc("voters_index_term", &pb.SnapshotMetadata{ConfState: pb.ConfState{Voters: []uint64{1, 2, 3}}, Index: 10, Term: 2})
	g.enc("full_conf_state", &pb.SnapshotMetadata{ConfState: fullConfState(), Index: 1000, Term: 12})
	g.enc("max_u64", &pb.SnapshotMetadata{ConfState: maxConfState(), Index: maxU64, Term: maxU64})
	g.enc("pow63", &pb.SnapshotMetadata{Index: pow63, Term: pow63})

	g.dec("SnapshotMetadata", "empty_input", "")
	g.dec("SnapshotMetadata", "conf_state_missing", "10 0a 18 02")
	g.dec("SnapshotMetadata", "reversed_order", "18 02 10 0a 0a 02 08 01")
	g.dec("SnapshotMetadata", "conf_state_twice_merges", "0a 04 08 01 28 01 0a 02 08 02 10 05")
	g.dec("SnapshotMetadata", "unknown_in_conf_state_and_self", "0a 04 08 01 38 09 10 01 18 01 20 63")

	g.bad("SnapshotMetadata", "conf_state_wrong_wire_type", "08 01")
	g.bad("SnapshotMetadata", "conf_state_length_past_end", "0a 04 08 01")
	g.bad("SnapshotMetadata", "conf_state_bad_inner", "0a 02 09 01")
}

func (g *generator) snapshots() {
	g.enc("zero", &pb.Snapshot{})
	g.enc("data_nil", &pb.Snapshot{Metadata: pb.SnapshotMetadata{Index: 5, Term: 1}})
	g.enc("data_empty", &pb.Snapshot{Data: []byte{}, Metadata: pb.SnapshotMetadata{Index: 5, Term: 1}})
	g.enc("data_json", &pb.Snapshot{Data: []byte("{}"), Metadata: pb.SnapshotMetadata{
		ConfState: pb.ConfState{Voters: []uint64{1, 2, 3}}, Index: 10, Term: 2}})
	g.enc("full_conf_state_and_data", &pb.Snapshot{Data: allBytes(), Metadata: pb.SnapshotMetadata{
		ConfState: fullConfState(), Index: 77, Term: 8}})
	g.enc("max_u64", &pb.Snapshot{Data: []byte{0}, Metadata: pb.SnapshotMetadata{
		ConfState: maxConfState(), Index: maxU64, Term: pow63}})

	g.dec("Snapshot", "empty_input", "")
	g.dec("Snapshot", "metadata_first", "12 04 10 01 18 01 0a 01 7a")
	g.dec("Snapshot", "data_twice_last_wins", "0a 01 61 0a 00")
	g.dec("Snapshot", "unknown_at_every_level", "12 0c 0a 04 08 01 30 01 10 02 18 03 20 04 0a 01 78 18 2a")
	g.dec("Snapshot", "packed_voters_nested", "12 0a 0a 04 0a 02 01 02 10 03 18 01")

	g.bad("Snapshot", "data_wrong_wire_type", "08 01")
	g.bad("Snapshot", "metadata_truncated", "12 05 10 01")
}

func (g *generator) messageTypes() {
	for t := int32(0); t <= 18; t++ {
		typ := pb.MessageType(t)
		m := pb.Message{Type: typ, To: 2, From: 1, Term: uint64(t) + 1}
		switch typ {
		case pb.MsgHup, pb.MsgBeat, pb.MsgCheckQuorum:
			m.To, m.From, m.Term = 1, 1, 0
		case pb.MsgProp:
			m.To, m.From, m.Term = 1, 2, 0
			m.Entries = []pb.Entry{{Data: []byte("foo")}, {Data: []byte{}}}
		case pb.MsgApp:
			m.LogTerm, m.Index, m.Commit = 3, 10, 9
			m.Entries = []pb.Entry{{Term: 4, Index: 11, Data: []byte("a")}, {Term: 4, Index: 12}}
		case pb.MsgAppResp:
			m.To, m.From, m.Index = 1, 2, 12
		case pb.MsgVote, pb.MsgPreVote:
			m.LogTerm, m.Index = 4, 12
			m.Context = []byte("CampaignTransfer")
		case pb.MsgVoteResp, pb.MsgPreVoteResp:
			m.To, m.From, m.Reject = 1, 2, t == int32(pb.MsgVoteResp)
		case pb.MsgSnap:
			m.To = 3
			m.Snapshot = pb.Snapshot{Data: []byte("snap"), Metadata: pb.SnapshotMetadata{
				ConfState: pb.ConfState{Voters: []uint64{1, 2, 3}}, Index: 100, Term: 5}}
		case pb.MsgHeartbeat:
			m.Commit = 12
			m.Context = []byte("ctx")
		case pb.MsgHeartbeatResp:
			m.To, m.From = 1, 2
			m.Context = []byte("ctx")
		case pb.MsgUnreachable:
			m.To, m.From, m.Term = 1, 3, 0
		case pb.MsgSnapStatus:
			m.To, m.From, m.Term, m.Reject = 1, 3, 0, true
		case pb.MsgTransferLeader:
			m.To, m.From = 1, 3
		case pb.MsgTimeoutNow:
			m.To = 3
		case pb.MsgReadIndex:
			m.To, m.From, m.Term = 1, 2, 0
			m.Entries = []pb.Entry{{Data: []byte("rctx")}}
		case pb.MsgReadIndexResp:
			m.Index = 12
			m.Entries = []pb.Entry{{Data: []byte("rctx")}}
		}
		g.enc("type_"+typ.String(), &m)
	}
	g.enc("type_out_of_range_99", &pb.Message{Type: 99, To: 1, From: 2, Term: 3})
	g.enc("type_negative_1", &pb.Message{Type: -1, To: 1, From: 2})
	g.enc("type_max_int32", &pb.Message{Type: math.MaxInt32})
	g.enc("type_min_int32", &pb.Message{Type: math.MinInt32})
}

func (g *generator) messages() {
	g.enc("zero", &pb.Message{})
	g.spec("spec_link_heartbeat", &pb.Message{Type: pb.MsgHeartbeat},
		"08 08 10 00 18 00 20 00 28 00 30 00 40 00 4a 0a 12 08 0a 02 28 00 10 00 18 00 50 00 58 00")
	g.spec("spec_heartbeat_captured", &pb.Message{Type: pb.MsgHeartbeat, To: 1, From: 2, Term: 2, Commit: 4},
		"08 08 10 01 18 02 20 02 28 00 30 00 40 04 4a 0a 12 08 0a 02 28 00 10 00 18 00 50 00 58 00")
	g.spec("spec_heartbeat_resp_empty_context",
		&pb.Message{Type: pb.MsgHeartbeatResp, To: 1, From: 2, Term: 5, Context: []byte{}},
		"08 09 10 01 18 02 20 05 28 00 30 00 40 00 4a 0a 12 08 0a 02 28 00 10 00 18 00 50 00 58 00 62 00")
	g.spec("spec_msgapp_one_entry", &pb.Message{Type: pb.MsgApp, To: 2, From: 1, Term: 2, LogTerm: 2, Index: 5,
		Commit: 5, Entries: []pb.Entry{{Term: 2, Index: 6, Data: []byte("x")}}},
		"08 03 10 02 18 01 20 02 28 02 30 05 3a 09 08 00 10 02 18 06 22 01 78 40 05 4a 0a 12 08 0a 02 28 00 10 00 18 00 50 00 58 00")
	g.spec("spec_msgsnap", &pb.Message{Type: pb.MsgSnap, To: 3, From: 1, Term: 2, Snapshot: pb.Snapshot{
		Data: []byte("{}"), Metadata: pb.SnapshotMetadata{ConfState: pb.ConfState{Voters: []uint64{1, 2, 3}},
			Index: 10, Term: 2}}},
		"08 07 10 03 18 01 20 02 28 00 30 00 40 00 4a 14 0a 02 7b 7d 12 0e 0a 08 08 01 08 02 08 03 28 00 10 0a 18 02 50 00 58 00")

	g.messageTypes()

	g.enc("context_nil", &pb.Message{Type: pb.MsgHeartbeat, To: 2, From: 1, Term: 1})
	g.enc("context_empty", &pb.Message{Type: pb.MsgHeartbeat, To: 2, From: 1, Term: 1, Context: []byte{}})
	g.enc("context_binary", &pb.Message{Type: pb.MsgHeartbeat, To: 2, From: 1, Term: 1, Context: []byte{0, 0xff, 0x80}})
	g.enc("reject_with_hint", &pb.Message{Type: pb.MsgAppResp, To: 1, From: 2, Term: 4, Index: 9, Reject: true, RejectHint: 7})
	g.enc("max_u64_all_fields", &pb.Message{Type: pb.MsgApp, To: maxU64, From: maxU64, Term: maxU64, LogTerm: maxU64,
		Index: maxU64, Commit: maxU64, Reject: true, RejectHint: maxU64,
		Entries:  []pb.Entry{{Type: pb.EntryNormal, Term: maxU64, Index: maxU64, Data: []byte{}}},
		Snapshot: pb.Snapshot{Data: []byte{}, Metadata: pb.SnapshotMetadata{ConfState: maxConfState(), Index: maxU64, Term: maxU64}},
		Context:  []byte{}})
	g.enc("pow63_all_fields", &pb.Message{Type: pb.MsgAppResp, To: pow63, From: pow63, Term: pow63, LogTerm: pow63,
		Index: pow63, Commit: pow63, RejectHint: pow63,
		Entries:  []pb.Entry{{Term: pow63, Index: pow63}},
		Snapshot: pb.Snapshot{Metadata: pb.SnapshotMetadata{Index: pow63, Term: pow63}}})
	ccBytes := mustBytes(&pb.ConfChange{ID: 1, Type: pb.ConfChangeAddNode, NodeID: 4, Context: []byte("http://127.0.0.1:12382")})
	ccv2Bytes := mustBytes(&pb.ConfChangeV2{Transition: pb.ConfChangeTransitionJointExplicit, Changes: []pb.ConfChangeSingle{
		{Type: pb.ConfChangeAddNode, NodeID: 4}, {Type: pb.ConfChangeRemoveNode, NodeID: 1}}})
	g.enc("msgapp_several_entries", &pb.Message{Type: pb.MsgApp, To: 2, From: 1, Term: 3, LogTerm: 2, Index: 20, Commit: 19,
		Entries: []pb.Entry{
			{Type: pb.EntryNormal, Term: 2, Index: 21, Data: []byte("first")},
			{Type: pb.EntryNormal, Term: 3, Index: 22},
			{Type: pb.EntryNormal, Term: 3, Index: 23, Data: []byte{}},
			{Type: pb.EntryConfChange, Term: 3, Index: 24, Data: ccBytes},
			{Type: pb.EntryConfChangeV2, Term: 3, Index: 25, Data: ccv2Bytes},
			{Type: 99, Term: 3, Index: 26, Data: make([]byte, 200)},
		}})
	g.enc("msgsnap_full", &pb.Message{Type: pb.MsgSnap, To: 4, From: 1, Term: 9, Snapshot: pb.Snapshot{
		Data:     []byte(`{"k1":"v1","k2":"v2"}`),
		Metadata: pb.SnapshotMetadata{ConfState: fullConfState(), Index: 4242, Term: 9}}})
	g.enc("msgsnap_large_snapshot_field", &pb.Message{Type: pb.MsgSnap, To: 2, From: 1, Term: 1, Snapshot: pb.Snapshot{
		Data: allBytes(), Metadata: pb.SnapshotMetadata{ConfState: pb.ConfState{Voters: []uint64{1, 2}}, Index: 3, Term: 1}}})
	g.enc("msgsnap_empty_data", &pb.Message{Type: pb.MsgSnap, To: 2, From: 1, Term: 1, Snapshot: pb.Snapshot{
		Data: []byte{}, Metadata: pb.SnapshotMetadata{Index: 3, Term: 1}}})

	// Decode direction.
	const hb = "08 08 10 00 18 00 20 00 28 00 30 00 40 00 " + emptySnapField + " 50 00 58 00"
	g.dec("Message", "empty_input", "")
	g.dec("Message", "two_bytes_0808", "08 08")
	g.dec("Message", "unknown_varint_field_13", hb+" 68 2a")
	g.dec("Message", "unknown_length_delimited_field_20", hb+" a2 01 03 61 62 63")
	g.dec("Message", "unknown_13_and_20", hb+" 68 2a a2 01 03 61 62 63")
	g.dec("Message", "unknown_before_and_between_known", "68 2a 08 08 a2 01 03 61 62 63 10 01")
	g.dec("Message", "unknown_fixed64_and_fixed32", "08 08 71 01 02 03 04 05 06 07 08 7d 0a 0b 0c 0d")
	g.dec("Message", "unknown_group_field_16", "08 08 83 01 08 05 12 01 61 84 01")
	g.dec("Message", "unknown_max_field_number", "08 08 f8 ff ff ff 0f 01")
	g.dec("Message", "unknown_field_zero_length", "08 08 a2 01 00")
	g.dec("Message", "unknown_in_nested_entry",
		"08 03 10 02 18 01 3a 08 08 00 10 02 18 06 28 07 3a 08 68 01 08 00 10 02 18 07")
	g.dec("Message", "unknown_in_snapshot_tree",
		"08 07 4a 11 0a 01 78 12 0a 0a 04 08 01 30 01 10 05 38 02 18 2a 50 00")
	g.dec("Message", "fields_reversed", "62 01 63 58 03 50 01 40 07 30 06 28 05 20 04 18 03 10 02 08 04")
	g.dec("Message", "entries_interleaved", "3a 02 10 01 08 03 3a 02 10 02 40 01 3a 04 22 02 68 69")
	g.dec("Message", "duplicate_scalar_last_wins", "10 01 10 02 08 03 08 04")
	g.dec("Message", "duplicate_context_then_empty", "62 02 61 62 62 00")
	g.dec("Message", "snapshot_twice_merges",
		"4a 03 0a 01 61 4a 0c 12 0a 0a 04 08 01 08 02 10 05 18 03 4a 06 12 04 0a 02 08 03")
	g.dec("Message", "packed_conf_state_in_msgsnap", "08 07 4a 0b 12 09 0a 05 0a 03 01 02 03 10 01")
	g.dec("Message", "nonminimal_varints", "08 88 00 10 81 80 80 00 40 80 80 80 80 80 80 80 80 80 00")
	g.dec("Message", "reject_varint_2", "08 04 50 02")
	g.dec("Message", "reject_varint_10_bytes", "50 80 80 80 80 80 80 80 80 80 01")
	g.dec("Message", "type_varint_beyond_int32", "08 83 80 80 80 10")
	g.dec("Message", "type_varint_int32_sign_bit", "08 80 80 80 80 08")
	g.dec("Message", "type_negative_10_bytes", "08 ff ff ff ff ff ff ff ff ff 01")
	g.dec("Message", "entry_with_empty_record", "08 03 3a 00")
	g.dec("Message", "snapshot_empty_record", "08 07 4a 00")
	g.dec("Message", "varint_10th_byte_overflow_bits", "10 ff ff ff ff ff ff ff ff ff 7f")
	g.dec("Message", "unknown_nonminimal_varint_value", hb+" 68 80 00")
	g.dec("Message", "unknown_nonminimal_tag", hb+" e8 00 2a")
	g.dec("Message", "unknown_nonminimal_length", hb+" a2 01 83 00 61 62 63")
	// Deliberately not recorded: inputs Go accepts only because its hand-written skip/packed
	// loops do not validate them (a group closed by another field's end-group tag; a packed
	// varint running past the end of its packed record). They are malformed protobuf.

	g.bad("Message", "truncated_after_tag", "08 08 10")
	g.bad("Message", "truncated_varint", "08 88")
	g.bad("Message", "context_length_past_end", "08 08 62 05 61")
	g.bad("Message", "overlong_varint_to", "10 80 80 80 80 80 80 80 80 80 80 00")
	g.bad("Message", "wrong_wire_type_to_len", "08 08 12 00")
	g.bad("Message", "wrong_wire_type_type_fixed64", "09 08 00 00 00 00 00 00 00")
	g.bad("Message", "wrong_wire_type_entries_varint", "38 01")
	g.bad("Message", "wrong_wire_type_snapshot_varint", "48 00")
	g.bad("Message", "wrong_wire_type_reject_len", "52 01 01")
	g.bad("Message", "wrong_wire_type_context_varint", "60 00")
	g.bad("Message", "entry_length_past_end", "3a 05 08 00")
	g.bad("Message", "entry_inner_truncated", "3a 01 08")
	g.bad("Message", "entry_inner_wrong_wire_type", "3a 02 20 01")
	g.bad("Message", "entry_inner_length_past_end", "3a 02 22 01")
	g.bad("Message", "snapshot_inner_wrong_wire_type", "4a 02 10 00")
	g.bad("Message", "snapshot_inner_length_past_end", "4a 02 12 01")
	g.bad("Message", "conf_state_inner_wrong_wire_type", "4a 06 12 04 0a 02 2a 00")
	g.bad("Message", "field_number_zero", "00 01")
	g.bad("Message", "lone_end_group", "08 08 8c 01")
	g.bad("Message", "illegal_wire_type_7", "08 08 6f")
	g.bad("Message", "unknown_length_past_end", "08 08 a2 01 05 61")
	g.bad("Message", "unknown_group_unterminated", "08 08 83 01 08 05")
	g.bad("Message", "unknown_fixed32_truncated", "08 08 7d 01 02")
}

func (g *generator) hardStates() {
	g.enc("zero", &pb.HardState{})
	g.spec("spec_term1_commit3", &pb.HardState{Term: 1, Vote: 0, Commit: 3}, "08 01 10 00 18 03")
	g.enc("voted", &pb.HardState{Term: 5, Vote: 2, Commit: 100})
	g.enc("max_u64", &pb.HardState{Term: maxU64, Vote: maxU64, Commit: maxU64})
	g.enc("pow63", &pb.HardState{Term: pow63, Vote: pow63, Commit: pow63})

	g.dec("HardState", "empty_input", "")
	g.dec("HardState", "reversed", "18 03 10 02 08 01")
	g.dec("HardState", "unknown_field_4", "08 01 20 09 10 02 18 03")

	g.bad("HardState", "wrong_wire_type_vote_len", "12 00")
	g.bad("HardState", "truncated", "08 01 18")
}

func (g *generator) confChanges() {
	g.enc("zero", &pb.ConfChange{})
	g.spec("spec_bootstrap_add_node_1", &pb.ConfChange{Type: pb.ConfChangeAddNode, NodeID: 1}, "08 00 10 00 18 01")
	url := "http://127.0.0.1:12382"
	g.spec("spec_add_node_4_with_url", &pb.ConfChange{ID: 1, Type: pb.ConfChangeAddNode, NodeID: 4, Context: []byte(url)},
		"08 01 10 00 18 04 22 16 "+hex.EncodeToString([]byte(url)))
	for t := int32(0); t <= 3; t++ {
		typ := pb.ConfChangeType(t)
		g.enc("type_"+typ.String(), &pb.ConfChange{ID: uint64(10 + t), Type: typ, NodeID: uint64(t) + 2})
	}
	g.enc("type_out_of_range_99", &pb.ConfChange{ID: 1, Type: 99, NodeID: 2})
	g.enc("type_negative_1", &pb.ConfChange{Type: -1, NodeID: 2})
	g.enc("context_nil", &pb.ConfChange{ID: 3, Type: pb.ConfChangeRemoveNode, NodeID: 2})
	g.enc("context_empty", &pb.ConfChange{ID: 3, Type: pb.ConfChangeRemoveNode, NodeID: 2, Context: []byte{}})
	g.enc("max_u64", &pb.ConfChange{ID: maxU64, Type: pb.ConfChangeUpdateNode, NodeID: maxU64, Context: []byte("c")})
	g.enc("pow63", &pb.ConfChange{ID: pow63, NodeID: pow63})

	g.dec("ConfChange", "empty_input", "")
	g.dec("ConfChange", "declaration_order", "10 01 18 03 22 00 08 09")
	g.dec("ConfChange", "unknown_field_5", "08 01 10 00 18 02 2a 01 7a")

	g.bad("ConfChange", "wrong_wire_type_context_varint", "20 00")
	g.bad("ConfChange", "context_length_past_end", "22 03 61")
}

func (g *generator) confChangeSingles() {
	g.enc("zero", &pb.ConfChangeSingle{})
	for t := int32(0); t <= 3; t++ {
		typ := pb.ConfChangeType(t)
		g.enc("type_"+typ.String(), &pb.ConfChangeSingle{Type: typ, NodeID: uint64(t) + 1})
	}
	g.enc("type_out_of_range_99", &pb.ConfChangeSingle{Type: 99, NodeID: 1})
	g.enc("type_negative_1", &pb.ConfChangeSingle{Type: -1, NodeID: 1})
	g.enc("max_u64", &pb.ConfChangeSingle{Type: pb.ConfChangeAddLearnerNode, NodeID: maxU64})
	g.enc("pow63", &pb.ConfChangeSingle{NodeID: pow63})

	g.dec("ConfChangeSingle", "empty_input", "")
	g.dec("ConfChangeSingle", "reversed_with_unknown", "18 05 10 04 08 03")

	g.bad("ConfChangeSingle", "wrong_wire_type_node_id_fixed32", "15 00 00 00 00")
}

func (g *generator) confChangeV2s() {
	g.enc("zero", &pb.ConfChangeV2{})
	g.spec("spec_add_learner_4", &pb.ConfChangeV2{Changes: []pb.ConfChangeSingle{{Type: pb.ConfChangeAddLearnerNode, NodeID: 4}}},
		"08 00 12 04 08 03 10 04")
	for t := int32(0); t <= 2; t++ {
		tr := pb.ConfChangeTransition(t)
		g.enc("transition_"+tr.String(), &pb.ConfChangeV2{Transition: tr, Changes: []pb.ConfChangeSingle{
			{Type: pb.ConfChangeAddNode, NodeID: 5}, {Type: pb.ConfChangeAddLearnerNode, NodeID: 6}}})
	}
	g.enc("transition_out_of_range_99", &pb.ConfChangeV2{Transition: 99})
	g.enc("transition_negative_1", &pb.ConfChangeV2{Transition: -1, Changes: []pb.ConfChangeSingle{{NodeID: 1}}})
	g.enc("several_changes_every_type", &pb.ConfChangeV2{Transition: pb.ConfChangeTransitionJointImplicit,
		Changes: []pb.ConfChangeSingle{
			{Type: pb.ConfChangeAddNode, NodeID: 1},
			{Type: pb.ConfChangeRemoveNode, NodeID: 2},
			{Type: pb.ConfChangeUpdateNode, NodeID: 3},
			{Type: pb.ConfChangeAddLearnerNode, NodeID: 4},
			{Type: 99, NodeID: 5},
		}, Context: []byte("ctx")})
	g.enc("context_nil", &pb.ConfChangeV2{Changes: []pb.ConfChangeSingle{{NodeID: 2}}})
	g.enc("context_empty", &pb.ConfChangeV2{Changes: []pb.ConfChangeSingle{{NodeID: 2}}, Context: []byte{}})
	g.enc("leave_joint_with_context", &pb.ConfChangeV2{Context: []byte("leave")})
	g.enc("max_u64", &pb.ConfChangeV2{Transition: pb.ConfChangeTransitionJointExplicit, Changes: []pb.ConfChangeSingle{
		{Type: pb.ConfChangeRemoveNode, NodeID: maxU64}, {Type: pb.ConfChangeAddNode, NodeID: pow63}}})

	g.dec("ConfChangeV2", "empty_input", "")
	g.dec("ConfChangeV2", "context_first", "1a 01 63 12 02 10 01 08 02")
	g.dec("ConfChangeV2", "changes_interleaved", "12 02 10 01 1a 00 12 02 10 02 08 01")
	g.dec("ConfChangeV2", "unknown_in_change_and_self", "12 04 10 01 18 07 20 08")
	g.dec("ConfChangeV2", "empty_change_record", "12 00")

	g.bad("ConfChangeV2", "wrong_wire_type_changes_varint", "10 01")
	g.bad("ConfChangeV2", "change_inner_wrong_wire_type", "12 02 0a 00")
	g.bad("ConfChangeV2", "change_length_past_end", "12 04 10 01")
}

func printHeader(counts map[string]int) {
	header := `# raftkit golden raftpb vectors, generated by tests/interop/golden/gen_golden.go from etcd 3.4.23's
# own Go raftpb (go.etcd.io/etcd/raft/raftpb). DO NOT EDIT: regenerate with scripts/gen_golden.sh
# (scripts/gen_golden.sh --check verifies this file is up to date).
#
# One vector per line; fields are separated by single spaces; lines starting with '#' are comments.
#   enc <Kind> <case> <hex> <description>
#       Go built a value and Marshal()ed it to <hex>. Decoding <hex> must give a value described
#       exactly by <description>, and encoding that value must give <hex> again.
#   dec <Kind> <case> <input-hex> <go-hex> <description>
#       A hand-made <input-hex> (unknown fields, packed repeated fields, out-of-order or repeated
#       fields, non-minimal varints, ...). Go's Unmarshal() accepts it and yields the value described
#       by <description>; Go's Marshal() of that value is <go-hex> (it may differ from the input).
#   err <Kind> <case> <input-hex> <go-error>
#       Go's Unmarshal() rejects <input-hex> with the error text <go-error>.
# <Kind> is one of Entry ConfState SnapshotMetadata Snapshot Message HardState ConfChange
# ConfChangeSingle ConfChangeV2. <case> matches [A-Za-z0-9_]+ and is unique per Kind.
# Hex is lowercase without separators; "-" stands for zero bytes.
#
# <description> renders every field of the decoded value, in field-number order:
#   Entry{Type:<int32> Term:<u64> Index:<u64> Data:<bytes> Unknown:<raw>}
#   ConfState{Voters:<ids> Learners:<ids> VotersOutgoing:<ids> LearnersNext:<ids> AutoLeave:<bool> Unknown:<raw>}
#   SnapshotMetadata{ConfState:<ConfState> Index:<u64> Term:<u64> Unknown:<raw>}
#   Snapshot{Data:<bytes> Metadata:<SnapshotMetadata> Unknown:<raw>}
#   Message{Type:<int32> To:<u64> From:<u64> Term:<u64> LogTerm:<u64> Index:<u64> Entries:[<Entry> ...]
#           Commit:<u64> Snapshot:<Snapshot> Reject:<bool> RejectHint:<u64> Context:<bytes> Unknown:<raw>}
#   HardState{Term:<u64> Vote:<u64> Commit:<u64> Unknown:<raw>}
#   ConfChange{ID:<u64> Type:<int32> NodeID:<u64> Context:<bytes> Unknown:<raw>}
#   ConfChangeSingle{Type:<int32> NodeID:<u64> Unknown:<raw>}
#   ConfChangeV2{Transition:<int32> Changes:[<ConfChangeSingle> ...] Context:<bytes> Unknown:<raw>}
# where enums are decimal int32 values, <u64> is decimal, <bool> is true/false, <ids> is
# "[1 2 3]" (decimal, wire order, "[]" when empty), lists of records are space separated,
# <bytes> is nil for an absent (nil) field or h'<hex>' for a present one (h'' when present but
# empty), and <raw> is the unknown-field bytes (Go's XXX_unrecognized) as h'<hex>' (h'' if none).
#`
	fmt.Println(header)
	var parts []string
	for _, k := range kinds {
		parts = append(parts, fmt.Sprintf("%s=%d", k, counts[k]))
	}
	fmt.Printf("# vectors per Kind (enc+dec+err): %s\n", strings.Join(parts, " "))
}

func main() {
	g := &generator{seen: map[string]bool{}}
	g.entries()
	g.confStates()
	g.snapshotMetadata()
	g.snapshots()
	g.messages()
	g.hardStates()
	g.confChanges()
	g.confChangeSingles()
	g.confChangeV2s()

	counts := map[string]int{}
	for _, l := range g.lines {
		counts[strings.Fields(l)[1]]++
	}
	for _, k := range kinds {
		if counts[k] == 0 {
			fail("no vectors for kind %s", k)
		}
	}
	printHeader(counts)
	for _, l := range g.lines {
		fmt.Println(l)
	}
}
