package importer

import "testing"

func TestNothingToDo(t *testing.T) {
	header := writeFile(t, "h.csv", []byte("Email,First Name,Permissions\n"))
	blank := writeFile(t, "b.csv", []byte("PBX,Extensions\n,\n"))
	rows := writeFile(t, "r.csv", []byte("PBX,Extensions\nHQ,50\n"))
	for _, tt := range []struct {
		name  string
		paths []string
		want  []wantProblem
	}{
		{"headers only", []string{header}, []wantProblem{{0, "", Warning, "the file has no rows: nothing to do"}}},
		{"two files without rows", []string{header, blank}, []wantProblem{{0, "", Warning, "the files have no rows: nothing to do"}}},
		{"one file with rows", []string{header, rows}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, ps := Read(tt.paths, Options{})
			checkProblems(t, ps, tt.want)
		})
	}
	t.Run("a 3CX sizing is something to do", func(t *testing.T) {
		_, ps := Read([]string{header}, Options{ThreeCX: []ThreeCXSizing{{Path: "testdata/3cx-export-v20.csv", PBX: "HQ"}}})
		checkProblems(t, ps, nil)
	})
	t.Run("an unreadable file says so, not nothing to do", func(t *testing.T) {
		_, ps := Read([]string{header + ".missing"}, Options{})
		if _, ok := findProblem(ps, "nothing to do"); ok || !HasErrors(ps) {
			t.Errorf("got:\n%s", problemsText(ps))
		}
	})
}
