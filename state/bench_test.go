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
