package reconcile_test

import (
	"context"
	"time"
)

type testingCtx = context.Context

// sleepShort waits a tenth of what the client asked, so Retry-After seconds stay
// honoured in shape but tests stay fast.
func sleepShort(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d / 10)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
