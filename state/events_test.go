package state

import (
	"testing"
	"time"
)

func TestEvents(t *testing.T) {
	s, err := Open(t.TempDir(), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	for i, k := range []string{"sign-in", "upload", "apply"} {
		if err := s.RecordEvent(t.Context(), Event{At: at.Add(time.Duration(i) * time.Minute), User: "ann", Kind: k, Detail: "d" + k}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Events(t.Context(), 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Kind != "apply" || got[1].Kind != "upload" || !got[0].At.Equal(at.Add(2*time.Minute)) || got[0].User != "ann" {
		t.Errorf("events %+v", got)
	}
}
