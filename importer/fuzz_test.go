package importer

import (
	"os"
	"path/filepath"
	"testing"
)

func addSeeds(f *testing.F, names ...string) {
	f.Helper()
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// checkInvariants holds for any input: problems say what and how, and every
// accepted row is free of errors.
func checkInvariants(t *testing.T, d *Desired, ps []Problem) {
	t.Helper()
	if d == nil {
		t.Fatal("nil Desired")
	}
	errRows := map[Source]bool{}
	for _, p := range ps {
		if p.Message == "" || p.Fix == "" {
			t.Errorf("problem without message or fix: %+v", p)
		}
		if p.Severity == Error {
			errRows[p.Source] = true
		}
	}
	for _, c := range d.Colleagues {
		if errRows[c.Source()] {
			t.Errorf("accepted colleague with an error: %+v", c)
		}
		if c.Email() == "" {
			t.Errorf("accepted colleague without e-mail: %+v", c)
		}
	}
	for _, in := range d.Instances {
		if errRows[in.Source] {
			t.Errorf("accepted instance with an error: %+v", in)
		}
		if in.Extensions != 0 && (in.Extensions < 5 || in.Extensions > 500) {
			t.Errorf("accepted out-of-range extensions: %+v", in)
		}
	}
}

func FuzzReadCSV(f *testing.F) {
	addSeeds(f, "lo-colleagues-utf8.csv", "lo-colleagues-1252.csv", "lo-colleagues-utf16.txt", "3cx-export-v20.csv")
	f.Add([]byte("PBX;Extensions;Concurrent Calls\nHQ;60;10\n\"Branch\n2\";6E+1;x\n"))
	f.Add([]byte("Email,First Name,Last Name,Permissions\n\"a@b.c\",\"x\"\"y\",,\"\n"))
	f.Add([]byte("Email,First Name,Last Name,Permissions\nok1@x.example,A,B,Dashboard\n\"bad@x.example,C,D,Dashboard\nok2@x.example,\"E\",F,Dashboard\n"))
	path := filepath.Join(f.TempDir(), "f.csv") // one file per worker, rewritten: a folder per input is slow
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		d, ps := Read([]string{path}, Options{MaxRows: 1000, MaxCellChars: 1000})
		checkInvariants(t, d, ps)
	})
}

func FuzzReadXLSX(f *testing.F) {
	addSeeds(f, "lo-team.xlsx", "lo-team.xls", "lo-team.ods")
	path := filepath.Join(f.TempDir(), "f.xlsx")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		d, ps := Read([]string{path}, Options{MaxRows: 1000, MaxCellChars: 1000, MaxUnzipBytes: 8 << 20})
		checkInvariants(t, d, ps)
	})
}
