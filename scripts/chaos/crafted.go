//go:build linux

package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// crafted runs apply on a hostile input file: it must end with want quickly, within
// 150 MB, with nothing written to the portal.
func (c *caseRun) crafted(ctx context.Context, input string, want int) {
	var before world
	var err error
	if before, err = c.sim.world(ctx); err != nil {
		c.failf("read the simulator: %v", err)
		return
	}
	c.input = input
	r := c.apply(ctx, applyOpts{timeout: 2 * time.Minute})
	c.want(r, want)
	const quick, mem = 30 * time.Second, 150 << 10
	if r.wall > quick {
		c.failf("run 1 took %.1f s, more than %s", r.wall.Seconds(), quick)
	}
	if r.rssKiB >= mem {
		c.failf("run 1 held %d MB, more than the 150 MB target", r.rssKiB>>10)
	}
	c.notef("run 1: %.1f s", r.wall.Seconds())
	if p := find(r.stderr, says("crafted-")); p != "" {
		c.notef("it says: %s", p)
	}
	after, err := c.sim.world(ctx)
	if err != nil {
		c.failf("read the simulator: %v", err)
		return
	}
	c.dup = strconv.Itoa(len(after.duplicates()))
	if after.sent != before.sent || len(after.colleagues) != len(before.colleagues) {
		c.failf("the portal was written: %d e-mails, %d colleagues (before: %d, %d)", after.sent, len(after.colleagues), before.sent, len(before.colleagues))
	} else {
		c.notef("outbox empty, no colleague added")
	}
}

func caseCSVQuote(ctx context.Context, c *caseRun) {
	if !c.startSim(ctx) {
		return
	}
	path := filepath.Join(c.dir, "crafted-quote.csv")
	if err := writeQuoteCSV(path, 90<<20); err != nil {
		c.failf("write the file: %v", err)
		return
	}
	c.crafted(ctx, path, exitUsage)
}

func caseSameAddress(ctx context.Context, c *caseRun) {
	if !c.startSim(ctx) {
		return
	}
	path := filepath.Join(c.dir, "crafted-same.csv")
	if err := writeSameAddressCSV(path, 10000); err != nil {
		c.failf("write the file: %v", err)
		return
	}
	if fi, err := os.Stat(path); err == nil {
		c.notef("the file is %.1f MB", float64(fi.Size())/(1<<20))
	}
	c.crafted(ctx, path, exitPartial)
}

func caseXLSXBomb(ctx context.Context, c *caseRun) {
	if !c.startSim(ctx) {
		return
	}
	// The control: the same hand-written workbook with an ordinary row is read.
	control := filepath.Join(c.dir, "crafted-control.xlsx")
	if _, err := writeBombXLSX(control, 0); err != nil {
		c.failf("write the control workbook: %v", err)
		return
	}
	r := c.s.job(ctx, c.dir, "control", time.Minute, 0, nil, "validate", control, "--portal", c.sim.url())
	if r.code != exitOK {
		c.failf("the control workbook (one ordinary row) is not read: validate exit %s: %s", r.label(), find(r.stderr, anyLine))
		return
	}
	path := filepath.Join(c.dir, "crafted-bomb.xlsx")
	size, err := writeBombXLSX(path, 900<<20)
	if err != nil {
		c.failf("write the workbook: %v", err)
		return
	}
	c.notef("the file is %.1f MB; the same workbook with an ordinary row validates", float64(size)/(1<<20))
	c.crafted(ctx, path, exitUsage)
}
