// Command gen writes the source workbooks of the LibreOffice fixtures; see
// ../README.md for the conversion that makes the committed files.
package main

import (
	"log"
	"os"
	"time"

	"github.com/xuri/excelize/v2"
)

func main() {
	out := "."
	if len(os.Args) > 1 {
		out = os.Args[1]
	}
	f := excelize.NewFile()
	defer f.Close()
	must(f.SetSheetName("Sheet1", "Colleagues"))
	rows := [][]any{
		{"Email", "First Name", "Last Name", "Permissions", "YCM Manager", "Owner", "Remark", "State"},
		{"ann@example.com", "Ann", "Lee", "Sales; Support", true, "", time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC), "present"},
		{"bob@example.com", "Bob", "Ray", "Sales,\nBilling", false, 1001, "two\nlines", ""},
		{"Carl <carl@example.com>", "Carl", "", "Sales", "maybe", "", "", "present"},
		{"dora@example.com", "", "", "", "", "", "", "absent"},
		{"zoe@example.com", "Zoë", "Müller", "Sales", "no", "", "Café", ""},
	}
	for r, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, r+1)
		must(f.SetSheetRow("Colleagues", cell, &row))
	}
	_, err := f.NewSheet("Instances")
	must(err)
	inst := [][]any{
		{"PBX", "Extensions", "Concurrent Calls"},
		{"HQ", 60, 10},
		{"Branch", nil, 8},
		{"SN-0042", time.Date(1900, 2, 28, 0, 0, 0, 0, time.UTC), 4},
		{"Lab", "sixty", -2},
	}
	for r, row := range inst {
		cell, _ := excelize.CoordinatesToCellName(1, r+1)
		must(f.SetSheetRow("Instances", cell, &row))
	}
	must(f.SetCellFormula("Instances", "B3", "=6*5"))
	must(f.SaveAs(out + "/team-src.xlsx"))
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
