// This file is not part of etcd. scripts/gen_golden.sh copies it, at build time only, into a
// temporary GOPATH that shadows etcd's package rafthttp (every original file is symlinked next to
// it), so that raftkit's golden-vector generator can call the stream codecs, which etcd does not
// export. The system tree (/usr/share/gocode) is never modified.
package rafthttp

import (
	"io"

	stats "go.etcd.io/etcd/etcdserver/api/v2stats"
	"go.etcd.io/etcd/pkg/types"
	"go.etcd.io/etcd/raft/raftpb"
)

// RaftkitEncoder is one of etcd's stream encoders (message or msgappv2).
type RaftkitEncoder interface {
	Encode(m *raftpb.Message) error
}

// RaftkitDecoder is one of etcd's stream decoders (message or msgappv2).
type RaftkitDecoder interface {
	Decode() (raftpb.Message, error)
}

type raftkitEnc struct{ e encoder }

func (x raftkitEnc) Encode(m *raftpb.Message) error { return x.e.encode(m) }

type raftkitDec struct{ d decoder }

func (x raftkitDec) Decode() (raftpb.Message, error) { return x.d.decode() }

// RaftkitMessageEncoder is the "message" stream encoder a streamWriter uses.
func RaftkitMessageEncoder(w io.Writer) RaftkitEncoder {
	return raftkitEnc{&messageEncoder{w: w}}
}

// RaftkitMessageDecoder is the "message" stream decoder a streamReader uses (512 MiB limit).
func RaftkitMessageDecoder(r io.Reader) RaftkitDecoder {
	return raftkitDec{&messageDecoder{r: r}}
}

// RaftkitMsgAppV2Encoder is the "msgapp" stream encoder, fresh state (one connection).
func RaftkitMsgAppV2Encoder(w io.Writer) RaftkitEncoder {
	return raftkitEnc{newMsgAppV2Encoder(w, &stats.FollowerStats{})}
}

// RaftkitMsgAppV2Decoder is the "msgapp" stream decoder of member local reading from remote.
func RaftkitMsgAppV2Decoder(r io.Reader, local, remote uint64) RaftkitDecoder {
	return raftkitDec{newMsgAppV2Decoder(r, types.ID(local), types.ID(remote))}
}

// RaftkitIsLinkHeartbeat is the test a streamReader applies to every decoded message.
func RaftkitIsLinkHeartbeat(m *raftpb.Message) bool { return isLinkHeartbeatMessage(m) }

// RaftkitLinkHeartbeat is the message a streamWriter encodes as its link heartbeat.
func RaftkitLinkHeartbeat() raftpb.Message { return linkHeartbeatMessage }

// RaftkitReadBytesLimit is the message decoder's frame-size limit.
func RaftkitReadBytesLimit() uint64 { return readBytesLimit }
