package state

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkRecordAction measures one RecordIntent+RecordOutcome pair, as apply makes
// for each change, under each sync policy. intents-full is what Open uses.
func BenchmarkRecordAction(b *testing.B) {
	for _, m := range []struct {
		name string
		mode syncMode
	}{{"intents-full", syncIntents}, {"all-full", syncAll}, {"all-normal", syncNone}} {
		b.Run(m.name, func(b *testing.B) {
			s, err := open(b.TempDir(), time.Now, m.mode)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := b.Context()
			run, err := s.BeginRun(ctx, RunInfo{Mode: "apply", Started: time.Now()})
			if err != nil {
				b.Fatal(err)
			}
			seq := 0
			for b.Loop() {
				in := Intent{Source: "wave1.xlsx sheet Colleagues row 7", Object: "colleague",
					Key: fmt.Sprintf("user%d@example.com", seq), Kind: "create"}
				id, err := s.RecordIntent(ctx, run, seq, in)
				if err != nil {
					b.Fatal(err)
				}
				if err := s.RecordOutcome(ctx, id, Outcome{Outcome: "applied", Attempts: 1}); err != nil {
					b.Fatal(err)
				}
				seq++
			}
		})
	}
}

// BenchmarkRecordBatch measures what apply now pays per change: intents written a
// batch of 1,024 at a time (synced), outcomes and invitations by the group writer.
func BenchmarkRecordBatch(b *testing.B) {
	s, err := Open(b.TempDir(), time.Now)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := b.Context()
	run, err := s.BeginRun(ctx, RunInfo{Mode: "apply", Started: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
	const batch = 1024
	seq := 0
	for b.Loop() {
		out := s.Outcomes()
		seqs, ins := make([]int, batch), make([]Intent, batch)
		for i := range batch {
			seqs[i] = seq
			ins[i] = Intent{Source: "wave1.xlsx sheet Colleagues row 7", Object: "colleague",
				Key: fmt.Sprintf("user%d@example.com", seq), Kind: "create"}
			seq++
		}
		ids, err := s.RecordIntents(ctx, run, seqs, ins)
		if err != nil {
			b.Fatal(err)
		}
		for i, id := range ids {
			out.Add(id, Outcome{Outcome: "applied", Attempts: 1},
				&Invite{Email: ins[i].Key, ColleagueID: int64(seqs[i]), At: time.Now()})
		}
		if err := out.Close(); err != nil { // the last group is written
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(seq), "µs/change")
}
