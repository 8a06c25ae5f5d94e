package importer

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestReadBasicWorkbook(t *testing.T) {
	path := writeXLSX(t, "team.xlsx",
		sheet{"Colleagues", [][]any{
			colleagueHeader,
			{"ann@example.com", "Ann", "Lee", "Sales; Support", "yes", "", "new hire", ""},
			{" bob@example.com\u00a0", "Bob", "", "Sales,Billing", "n", "partner@example.com", nil, "absent"},
		}},
		sheet{"Instances", [][]any{
			{"PBX", "Extensions", "Concurrent Calls"},
			{"Head Office", 60, 10},
			{"SN123", 60.0, nil},
		}},
	)
	d, ps := Read([]string{path}, Options{})
	if HasErrors(ps) || len(ps) > 0 {
		t.Fatalf("unexpected problems:\n%s", problemsText(ps))
	}
	want := &Desired{
		Colleagues: colleagues(
			ColleagueFields{Source: Source{"team.xlsx", "Colleagues", 2}, Email: "ann@example.com", FirstName: "Ann", LastName: "Lee",
				Permissions: []string{"Sales", "Support"}, YCMManager: ptr(true), Owner: ptr(""), Remark: ptr("new hire"), State: Present},
			ColleagueFields{Source: Source{"team.xlsx", "Colleagues", 3}, Email: "bob@example.com", FirstName: "Bob",
				Permissions: []string{"Sales", "Billing"}, YCMManager: ptr(false), Owner: ptr("partner@example.com"), Remark: ptr(""), State: Absent},
		),
		Instances: []Instance{
			{Source: Source{"team.xlsx", "Instances", 2}, Ref: "Head Office", Extensions: 60, ConcurrentCalls: 10},
			{Source: Source{"team.xlsx", "Instances", 3}, Ref: "SN123", Extensions: 60},
		},
	}
	if diff := cmp.Diff(want, d, cmpopts.IgnoreFields(Desired{}, "Files", "Layouts"), byFields); diff != "" {
		t.Errorf("Read (-want +got):\n%s", diff)
	}
	if len(d.Files) != 1 || len(d.Files[0].SHA256) != 64 || d.Files[0].Path != path {
		t.Errorf("Files = %+v", d.Files)
	}
}

func TestReadBasicCSV(t *testing.T) {
	path := writeFile(t, "team.csv", []byte("\ufeffE-mail;First name;Surname;Permissions\r\n"+
		"ann@example.com;Ann;Lee;\"Sales;\r\nSupport\"\r\n"+
		"\r\n"+
		"bob@example.com;Bob;;Sales\r\n"))
	d, ps := Read([]string{path}, Options{})
	if len(ps) > 0 {
		t.Fatalf("unexpected problems:\n%s", problemsText(ps))
	}
	want := []ColleagueFields{
		{Source: Source{"team.csv", "", 2}, Email: "ann@example.com", FirstName: "Ann", LastName: "Lee", Permissions: []string{"Sales", "Support"}},
		{Source: Source{"team.csv", "", 4}, Email: "bob@example.com", FirstName: "Bob", Permissions: []string{"Sales"}},
	}
	if diff := cmp.Diff(colleagues(want...), d.Colleagues, byFields); diff != "" {
		t.Errorf("Colleagues (-want +got):\n%s", diff)
	}
}
