package importer

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// Run each benchmark in its own process to read its peak RSS, e.g.
//
//	go test -run '^$' -bench 'ReadXLSX100k$' -benchtime 3x ./importer/
//	go test -run '^$' -bench 'BareRows100k$' -benchtime 3x ./importer/
//	go test -run '^$' -bench 'ReadCSV100k$' -benchtime 5x ./importer/
//	go test -run '^$' -bench 'RefuseCSVUnclosedQuote$' -benchtime 5x ./importer/
//	go test -run '^$' -bench 'RefuseCSVGiantCell$' -benchtime 5x ./importer/
//
// The 100,000-row files are made once and kept under os.TempDir(). The workbook is
// saved by LibreOffice when soffice is installed (shared-string table as LibreOffice
// writes it); otherwise excelize's normal mode, which also writes shared strings,
// stands in.

const benchRows = 100_000

func benchCSVText() []byte {
	var b bytes.Buffer
	b.WriteString("Email,First Name,Last Name,Permissions,YCM Manager,Owner,Remark,State\n")
	for i := range benchRows {
		fmt.Fprintf(&b, "user%06d@example.com,First%d,Last%d,Sales; Support,%s,,Remark number %d,present\n",
			i, i%997, i%1009, []string{"yes", "no"}[i%2], i)
	}
	return b.Bytes()
}

// benchFile returns a cached benchmark file, making it with mk the first time.
func benchFile(b *testing.B, name string, mk func(path string) error) string {
	b.Helper()
	dir := filepath.Join(os.TempDir(), "ycm-onboard-bench")
	path := filepath.Join(dir, name)
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	tmp := path + ".part"
	if err := mk(tmp); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	return path
}

func benchCSV(b *testing.B) string {
	return benchFile(b, "colleagues-100k.csv", func(p string) error { return os.WriteFile(p, benchCSVText(), 0o644) })
}

func benchXLSX(b *testing.B) string {
	if soffice, err := exec.LookPath("soffice"); err == nil {
		return benchFile(b, "colleagues-100k-libreoffice.xlsx", func(p string) error {
			dir := filepath.Dir(p)
			src := filepath.Join(dir, "Colleagues.csv")
			if err := os.WriteFile(src, benchCSVText(), 0o644); err != nil {
				return err
			}
			cmd := exec.Command(soffice, "--headless", "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", filepath.Join(dir, "lo"), src)
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("soffice: %v: %s", err, out)
			}
			return os.Rename(filepath.Join(dir, "lo", "Colleagues.xlsx"), p)
		})
	}
	return benchFile(b, "colleagues-100k-excelize.xlsx", func(p string) error {
		f := excelize.NewFile()
		defer f.Close()
		if err := f.SetSheetName("Sheet1", "Colleagues"); err != nil {
			return err
		}
		sc := bufio.NewScanner(bytes.NewReader(benchCSVText()))
		for r := 1; sc.Scan(); r++ {
			for c, v := range strings.Split(sc.Text(), ",") {
				cell, _ := excelize.CoordinatesToCellName(c+1, r)
				if err := f.SetCellValue("Colleagues", cell, v); err != nil {
					return err
				}
			}
		}
		return f.SaveAs(p)
	})
}

// peakRSS reports the process's peak resident set size in MB.
func peakRSS(b *testing.B) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.Atoi(strings.Fields(line)[1])
			b.ReportMetric(float64(kb)/1024, "peakRSS-MB")
		}
	}
}

func BenchmarkReadXLSX100k(b *testing.B) {
	path := benchXLSX(b)
	b.ResetTimer()
	for b.Loop() {
		d, ps := Read([]string{path}, Options{})
		if len(ps) > 0 || len(d.Colleagues) != benchRows {
			b.Fatalf("%d colleagues, problems:\n%s", len(d.Colleagues), problemsText(ps[:min(len(ps), 5)]))
		}
	}
	peakRSS(b)
}

// BenchmarkBareRows100k is the floor: excelize's raw Rows() iteration over the same
// file with the options Read uses, doing nothing with the cells.
func BenchmarkBareRows100k(b *testing.B) {
	path := benchXLSX(b)
	tmp, err := TempDir()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		f, err := excelize.OpenFile(path, excelize.Options{TmpDir: tmp, RawCellValue: true, UnzipSizeLimit: DefaultMaxUnzipBytes, UnzipXMLSizeLimit: xmlInMemoryLimit})
		if err != nil {
			b.Fatal(err)
		}
		rows, err := f.Rows("Colleagues")
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for rows.Next() {
			if _, err := rows.Columns(); err != nil {
				b.Fatal(err)
			}
			n++
		}
		rows.Close()
		f.Close()
		if n != benchRows+1 {
			b.Fatalf("%d rows", n)
		}
	}
	peakRSS(b)
}

func BenchmarkReadCSV100k(b *testing.B) {
	path := benchCSV(b)
	b.ResetTimer()
	for b.Loop() {
		d, ps := Read([]string{path}, Options{})
		if len(ps) > 0 || len(d.Colleagues) != benchRows {
			b.Fatalf("%d colleagues, problems:\n%s", len(d.Colleagues), problemsText(ps[:min(len(ps), 5)]))
		}
	}
	peakRSS(b)
}

// benchHostileCSV writes head, then what fill writes until the file has size bytes,
// then tail.
func benchHostileCSV(b *testing.B, name, head string, fill func(w io.Writer, i int) (int, error), size int, tail string) string {
	return benchFile(b, name, func(p string) error {
		f, err := os.Create(p)
		if err != nil {
			return err
		}
		w := bufio.NewWriter(f)
		n, _ := w.WriteString(head)
		for i := 0; n < size; i++ {
			k, err := fill(w, i)
			if err != nil {
				return err
			}
			n += k
		}
		w.WriteString(tail)
		if err := w.Flush(); err != nil {
			return err
		}
		return f.Close()
	})
}

// refuse reads a hostile file and checks that it is refused with the message.
func refuse(b *testing.B, path, want string) {
	b.Helper()
	b.ResetTimer()
	for b.Loop() {
		d, ps := Read([]string{path}, Options{})
		if len(ps) != 1 || !strings.Contains(ps[0].Message, want) || len(d.Colleagues)+len(d.RejectedColleagues) > 0 {
			b.Fatalf("got:\n%s", problemsText(ps))
		}
	}
	peakRSS(b)
}

// BenchmarkRefuseCSVUnclosedQuote: 94 MB of colleagues with a quote opened in row 3
// and never closed.
func BenchmarkRefuseCSVUnclosedQuote(b *testing.B) {
	path := benchHostileCSV(b, "unclosed-quote-94mb.csv",
		"Email,First Name,Last Name,Permissions,YCM Manager,Owner,Remark,State\na@example.com,A,B,Sales,,,,\nb@example.com,\"B,C,Sales,,,,\n",
		func(w io.Writer, i int) (int, error) {
			return fmt.Fprintf(w, "user%07d@example.com,First%d,Last%d,Sales; Support,no,,Remark number %d,present\n", i, i%997, i%1009, i)
		}, 94_000_000, "")
	refuse(b, path, "a quote opened in row 3 column B is never closed")
}

// BenchmarkRefuseCSVGiantCell: one cell of 50 MB in row 2.
func BenchmarkRefuseCSVGiantCell(b *testing.B) {
	chunk := strings.Repeat("Lorem ipsum dolor sit amet. ", 1<<10)
	path := benchHostileCSV(b, "giant-cell-50mb.csv",
		"Email,First Name,Last Name,Permissions,YCM Manager,Owner,Remark,State\na@example.com,A,B,Sales,,,",
		func(w io.Writer, _ int) (int, error) { return io.WriteString(w, chunk) }, 50_000_000, ",present\n")
	refuse(b, path, "cell G2 is longer than 32,767 characters")
}
