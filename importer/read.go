package importer

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Options bound what Read accepts. Zero fields take their defaults.
type Options struct {
	MaxFileBytes  int64 // default 100 MiB
	MaxRows       int   // default 200,000 per sheet
	MaxCellChars  int   // default 32,767 (Excel's own limit)
	MaxUnzipBytes int64 // uncompressed size of a workbook; default 1 GiB
	ThreeCX       []ThreeCXSizing
	// Ctx stops the read once it is done (nil: never). The files are checked as they
	// stream, every MiB or few thousand rows; Read then returns with
	// Desired.Interrupted set.
	Ctx context.Context
}

// ErrInterrupted is what Desired.Interrupted wraps, beside the context's error.
var ErrInterrupted = errors.New("reading the input was interrupted")

// interrupted returns an error wrapping ErrInterrupted and the context's once Ctx is
// done, else nil.
func (o *Options) interrupted() error {
	if o.Ctx == nil {
		return nil
	}
	if err := o.Ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrInterrupted, err)
	}
	return nil
}

// interruptedProblem is what a reader returns when Options.Ctx stopped it.
func interruptedProblem(path string) Problem {
	return fileProblem(path, "reading was interrupted before the end of the file; nothing was read", "run again to read it")
}

// checkedReader asks check every MiB it reads.
type checkedReader struct {
	r     io.Reader
	check func() error
	n     int
}

func (c *checkedReader) Read(p []byte) (int, error) {
	if c.n >= 1<<20 {
		c.n = 0
		if err := c.check(); err != nil {
			return 0, err
		}
	}
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// ThreeCXSizing plans a PBX's Extensions from a 3CX user export.
type ThreeCXSizing struct {
	Path            string
	PBX             string
	HeadroomPercent float64
}

// Defaults of Options.
const (
	DefaultMaxFileBytes  = 100 << 20
	DefaultMaxRows       = 200_000
	DefaultMaxCellChars  = 32767
	DefaultMaxUnzipBytes = 1 << 30
)

func (o Options) withDefaults() Options {
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = DefaultMaxFileBytes
	}
	if o.MaxRows <= 0 {
		o.MaxRows = DefaultMaxRows
	}
	if o.MaxCellChars <= 0 {
		o.MaxCellChars = DefaultMaxCellChars
	}
	if o.MaxUnzipBytes <= 0 {
		o.MaxUnzipBytes = DefaultMaxUnzipBytes
	}
	return o
}

// Read reads every file into one desired state. It never stops at the first problem:
// a file that cannot be read at all is a Problem with Row 0, and the other files are
// still read. Rows with errors are kept in Desired.Rejected*.
func Read(paths []string, opts Options) (*Desired, []Problem) {
	opts = opts.withDefaults()
	d := &Desired{}
	var ps []Problem
	current := ""
	for _, p := range paths {
		if opts.interrupted() != nil {
			break
		}
		current = p
		ps = append(ps, readAny(p, &opts, d, kindUnknown, nil)...)
	}
	for _, s := range opts.ThreeCX {
		if opts.interrupted() != nil {
			break
		}
		current = s.Path
		ps = append(ps, readThreeCX(s, &opts, d)...)
	}
	if err := opts.interrupted(); err != nil {
		// What was read is partial: none of it may be applied.
		return &Desired{Files: d.Files, Interrupted: err}, []Problem{interruptedProblem(current)}
	}
	ps = append(ps, dedupe(d)...)
	if len(paths) > 0 && !HasErrors(ps) && len(d.Colleagues)+len(d.RejectedColleagues)+len(d.Instances)+len(d.RejectedInstances) == 0 {
		names := make([]string, len(paths))
		for i, p := range paths {
			names[i] = filepath.Base(p)
		}
		msg := "the file has no rows: nothing to do"
		if len(paths) > 1 {
			msg = "the files have no rows: nothing to do"
		}
		ps = append(ps, Problem{Source: Source{File: strings.Join(names, ", ")}, Severity: Warning, Message: msg,
			Fix: "add a row per colleague under the Colleagues headers, or a row per cloud PBX under the Instances headers"})
	}
	SortProblems(ps)
	return d, ps
}

// SortProblems orders problems by file (in the order the files first appear), sheet
// (likewise) and row, keeping the order of problems at the same place. Whole-file and
// whole-sheet problems (row 0) come first.
func SortProblems(ps []Problem) {
	files, sheets := map[string]int{}, map[[2]string]int{}
	for _, p := range ps {
		if _, ok := files[p.Source.File]; !ok {
			files[p.Source.File] = len(files)
		}
		k := [2]string{p.Source.File, p.Source.Sheet}
		if _, ok := sheets[k]; !ok {
			sheets[k] = len(sheets)
		}
	}
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(
			cmp.Compare(files[a.Source.File], files[b.Source.File]),
			cmp.Compare(sheets[[2]string{a.Source.File, a.Source.Sheet}], sheets[[2]string{b.Source.File, b.Source.Sheet}]),
			cmp.Compare(a.Source.Row, b.Source.Row))
	})
}

// HasErrors reports whether any problem is an error.
func HasErrors(ps []Problem) bool {
	for _, p := range ps {
		if p.Severity == Error {
			return true
		}
	}
	return false
}

// fileProblem is an error about a whole file.
func fileProblem(path, msg, fix string) Problem {
	return Problem{Source: Source{File: filepath.Base(path)}, Severity: Error, Message: msg, Fix: fix, Refused: true}
}

// format is what the first bytes of a file say it is.
type format int

const (
	fmtEmpty format = iota
	fmtZip
	fmtOLE
	fmtText
	fmtPNG
	fmtJPEG
	fmtGIF
	fmtPDF
	fmtHTML
	fmtXMLSpreadsheet
	fmtBinary
)

// sniff tells a file's format from its first bytes.
func sniff(head []byte) format {
	switch {
	case len(head) == 0:
		return fmtEmpty
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return fmtZip
	case bytes.HasPrefix(head, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}):
		return fmtOLE
	case bytes.HasPrefix(head, []byte("\x89PNG")):
		return fmtPNG
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		return fmtJPEG
	case bytes.HasPrefix(head, []byte("GIF8")):
		return fmtGIF
	case bytes.HasPrefix(head, []byte("%PDF")):
		return fmtPDF
	}
	text, _ := decodeHead(head)
	lower := strings.ToLower(strings.TrimLeft(text, " \t\r\n\ufeff"))
	switch {
	case strings.HasPrefix(lower, "<!doctype html"), strings.HasPrefix(lower, "<html"):
		return fmtHTML
	case strings.HasPrefix(lower, "<?xml") && strings.Contains(lower, "urn:schemas-microsoft-com:office:spreadsheet"):
		return fmtXMLSpreadsheet
	}
	if looksBinary(head) {
		return fmtBinary
	}
	return fmtText
}

// looksBinary reports NUL bytes in a file that is not UTF-16 text.
func looksBinary(head []byte) bool {
	if _, ok := utf16Order(head); ok {
		return false
	}
	return bytes.IndexByte(head, 0) >= 0
}

const sniffLen = 4096

// readAny reads one file into d, whatever its format. want is kindUnknown for an
// input file and kindThreeCX for a sizing source, whose users are counted in cx.
func readAny(path string, opts *Options, d *Desired, want tableKind, cx *threeCXCount) []Problem {
	base := filepath.Base(path)
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return []Problem{fileProblem(path, fmt.Sprintf("the file %s does not exist", path), "check the file name and folder")}
	case err != nil:
		return []Problem{fileProblem(path, fmt.Sprintf("the file cannot be opened: %v", err), "check that the file is readable")}
	case fi.IsDir():
		return []Problem{fileProblem(path, fmt.Sprintf("%s is a folder, not a file", path), "name the spreadsheet file itself")}
	case !fi.Mode().IsRegular():
		return []Problem{fileProblem(path, fmt.Sprintf("%s is not a regular file", path), "save the spreadsheet to a file and name that file")}
	case fi.Size() > opts.MaxFileBytes:
		return []Problem{fileProblem(path, fmt.Sprintf("the file is %s, more than the limit of %s", byteSize(fi.Size()), byteSize(opts.MaxFileBytes)), "split it into smaller files, or raise the limit")}
	}
	sum, head, err := hashFile(path, opts.interrupted)
	if err != nil {
		return []Problem{fileProblem(path, fmt.Sprintf("the file cannot be read: %v", err), "check that the file is readable")}
	}
	d.Files = append(d.Files, File{Path: path, SHA256: sum})
	ext := strings.ToLower(filepath.Ext(path))
	switch f := sniff(head); f {
	case fmtEmpty:
		return []Problem{fileProblem(path, "the file is empty", "export the spreadsheet again; the file has 0 bytes")}
	case fmtZip:
		return readXLSX(path, opts, d, want, cx)
	case fmtOLE:
		return []Problem{oleProblem(path)}
	case fmtPNG, fmtJPEG, fmtGIF:
		return []Problem{fileProblem(path, fmt.Sprintf("%s is an image (%s), not a spreadsheet", base, imageName(f)), "open the spreadsheet itself and save it as .xlsx or .csv; a screenshot cannot be read")}
	case fmtPDF:
		return []Problem{fileProblem(path, fmt.Sprintf("%s is a PDF document, not a spreadsheet", base), "open the original spreadsheet and save it as .xlsx or .csv")}
	case fmtHTML:
		return []Problem{fileProblem(path, fmt.Sprintf("%s is a web page (HTML), not a spreadsheet, whatever its name says", base), "open it in a spreadsheet program and save it as Excel Workbook (.xlsx)")}
	case fmtXMLSpreadsheet:
		return []Problem{fileProblem(path, fmt.Sprintf("%s is an XML Spreadsheet 2003 file, which cannot be read", base), "open it in Excel and save it as Excel Workbook (.xlsx)")}
	case fmtBinary:
		return []Problem{fileProblem(path, fmt.Sprintf("%s is neither an Excel workbook nor a CSV text file", base), "save the spreadsheet as Excel Workbook (.xlsx) or CSV")}
	default:
		var ps []Problem
		if ext == ".xlsx" || ext == ".xlsm" || ext == ".xls" {
			ps = append(ps, Problem{Source: Source{File: base}, Severity: Warning,
				Message: fmt.Sprintf("%s is named %s but holds CSV text; it was read as CSV", base, ext),
				Fix:     "rename it to .csv, or open it and save it as Excel Workbook (.xlsx)"})
		}
		return append(ps, readCSVFile(path, opts, d, want, cx)...)
	}
}

func imageName(f format) string {
	switch f {
	case fmtPNG:
		return "PNG"
	case fmtJPEG:
		return "JPEG"
	}
	return "GIF"
}

// hashFile returns the SHA-256 of a file and its first bytes, asking check as it goes.
func hashFile(path string, check func() error) (string, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return "", nil, err
	}
	head = head[:n]
	h := sha256.New()
	h.Write(head)
	if _, err := io.Copy(h, &checkedReader{r: f, check: check}); err != nil {
		return "", nil, err
	}
	return hex.EncodeToString(h.Sum(nil)), head, nil
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
