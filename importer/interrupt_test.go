package importer

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countdownCtx is cancelled by the importer's own k-th look at it (0: never), so a
// test can stop a read at a known point of its streaming without a clock.
type countdownCtx struct {
	context.Context
	cancel context.CancelFunc
	k      int64
	calls  atomic.Int64
	fired  time.Time
}

func newCountdown(t *testing.T, k int64) *countdownCtx {
	ctx, cancel := context.WithCancel(t.Context())
	return &countdownCtx{Context: ctx, cancel: cancel, k: k}
}

func (c *countdownCtx) Err() error {
	if c.calls.Add(1) == c.k {
		c.fired = time.Now()
		c.cancel()
	}
	return c.Context.Err()
}

// bigXLSX writes a workbook of n colleagues, its sheet stored uncompressed so that
// it is quick to make.
func bigXLSX(t *testing.T, n int) string {
	t.Helper()
	src := writeXLSX(t, "src.xlsx", sheet{"Colleagues", [][]any{{"Email", "First Name", "Permissions"}}})
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	path := filepath.Join(t.TempDir(), "big.xlsx")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	zw := zip.NewWriter(out)
	for _, f := range zr.File {
		if f.Name != "xl/worksheets/sheet1.xml" {
			if err := zw.Copy(f); err != nil {
				t.Fatal(err)
			}
			continue
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		b.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
		b.WriteString(`<row r="1"><c r="A1" t="inlineStr"><is><t>Email</t></is></c><c r="B1" t="inlineStr"><is><t>First Name</t></is></c><c r="C1" t="inlineStr"><is><t>Permissions</t></is></c></row>`)
		for r := 2; r <= n+1; r++ {
			fmt.Fprintf(&b, `<row r="%d"><c r="A%d" t="inlineStr"><is><t>u%d@x.example</t></is></c><c r="B%d" t="inlineStr"><is><t>A</t></is></c><c r="C%d" t="inlineStr"><is><t>Sales</t></is></c></row>`, r, r, r, r, r)
		}
		b.WriteString(`</sheetData></worksheet>`)
		io.WriteString(w, b.String())
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func bigCSV(t *testing.T, n int) string {
	var b strings.Builder
	b.WriteString("Email,First Name,Last Name,Permissions,Remark\n")
	for i := range n {
		fmt.Fprintf(&b, "u%d@x.example,José,Müller,Sales,remark number %d\n", i, i)
	}
	return writeFile(t, "big.csv", []byte(b.String()))
}

// TestInterruptedRead: a read stops at the first look at its context after the
// context is cancelled, while the file streams, and says so; nothing of the file is
// kept.
func TestInterruptedRead(t *testing.T) {
	for _, tt := range []struct {
		name string
		rows int
		path func(t *testing.T, rows int) string
	}{
		{"csv", 100_000, bigCSV},
		{"xlsx", 20_000, bigXLSX}, // slower to read: fewer rows
	} {
		t.Run(tt.name, func(t *testing.T) {
			path, rows := tt.path(t, tt.rows), tt.rows
			// Uncancelled: the whole file is read, looking at the context n times.
			whole := newCountdown(t, 0)
			d, ps := Read([]string{path}, Options{Ctx: whole})
			if len(d.Colleagues) != rows || d.Interrupted != nil || HasErrors(ps) {
				t.Fatalf("%d colleagues, interrupted %v:\n%s", len(d.Colleagues), d.Interrupted, problemsText(ps[:min(len(ps), 5)]))
			}
			n := whole.calls.Load()
			if n < 10 {
				t.Fatalf("the context was looked at %d times in a read of %d rows", n, rows)
			}
			for _, k := range []int64{1, n / 2, n - 2} {
				ctx := newCountdown(t, k)
				start := time.Now()
				d, ps := Read([]string{path}, Options{Ctx: ctx})
				after := ctx.calls.Load() - k
				if !errors.Is(d.Interrupted, ErrInterrupted) || !errors.Is(d.Interrupted, context.Canceled) {
					t.Errorf("cancelled at look %d of %d: Interrupted = %v", k, n, d.Interrupted)
				}
				if len(d.Colleagues)+len(d.RejectedColleagues)+len(d.Layouts) != 0 || len(d.Files) > 1 {
					t.Errorf("cancelled at look %d of %d: kept %d colleagues, %d layouts, %d files", k, n, len(d.Colleagues), len(d.Layouts), len(d.Files))
				}
				if len(ps) != 1 || ps[0].Severity != Error || ps[0].Source.Row != 0 || !strings.Contains(ps[0].Message, "interrupted") {
					t.Errorf("cancelled at look %d of %d: problems:\n%s", k, n, problemsText(ps))
				}
				// It stops at the next look; Read looks once more on its way out.
				if after > 2 {
					t.Errorf("cancelled at look %d of %d: read on for %d more looks", k, n, after)
				}
				t.Logf("cancelled at look %d of %d: returned after %v (the whole read started %v before)", k, n, time.Since(ctx.fired), time.Since(start))
			}
		})
	}
}
